package lang

import (
	"testing"
)

// TestCommaContinuation: a statement continues on the next line after a
// comma, at the top level as inside braces (docs/language.md, Lexical
// structure). Each source must parse, on both paths, to what its one-line
// form does.
func TestCommaContinuation(t *testing.T) {
	for _, tc := range []struct{ name, src, oneLine string }{
		{"define", "define admins = 192.0.2.1,\n\t192.0.2.2\n", "define admins = 192.0.2.1, 192.0.2.2\n"},
		// fmt keeps the comment, before the statement.
		{"define, comment after the comma", "define admins = 192.0.2.1, # first\n\t192.0.2.2\n", "# first\ndefine admins = 192.0.2.1, 192.0.2.2\n"},
		{"service", "service dns = tcp/53,\n\tudp/53\n", "service dns = tcp/53, udp/53\n"},
		{"zone rule", "zone lan {\n\tiface eth1\n}\nfrom lan to self tcp dport 22,\n\t80 accept\n", "zone lan {\n\tiface eth1\n}\nfrom lan to self tcp dport 22, 80 accept\n"},
		{"chain rule", "table filter {\n\tchain input {\n\t\ttcp dport 22,\n\t\t\t80 accept\n\t}\n}\n", "table filter {\n\tchain input {\n\t\ttcp dport 22, 80 accept\n\t}\n}\n"},
		{"zone body", "zone lan {\n\tnet 10.0.0.0/8,\n\t\t192.168.0.0/16\n}\n", "zone lan {\n\tnet 10.0.0.0/8, 192.168.0.0/16\n}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []fastMode{fastStrict, fastOff} {
				f, ds, _ := parseFile("a.fw", []byte(tc.src), mode)
				if len(ds) > 0 {
					t.Fatalf("mode %d: %v", mode, ds)
				}
				g, ds, _ := parseFile("a.fw", []byte(tc.oneLine), mode)
				if len(ds) > 0 {
					t.Fatalf("one line, mode %d: %v", mode, ds)
				}
				if got, want := string(Format(f)), string(Format(g)); got != want {
					t.Errorf("mode %d: formats as\n%s\nnot as its one-line form\n%s", mode, got, want)
				}
			}
		})
	}
	// A newline ends the statement when no comma is before it, and a ';'
	// after a comma does not continue it.
	for _, src := range []string{"define a = 192.0.2.1\n\t192.0.2.2\n", "define a = 192.0.2.1,; 192.0.2.2\n"} {
		if _, ds, _ := parseFile("a.fw", []byte(src), fastOff); len(ds) == 0 {
			t.Errorf("%q parsed without error", src)
		}
	}
}
