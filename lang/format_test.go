package lang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/fwcproject/fwc/diag"
)

var ignoreRanges = cmp.Options{cmpopts.IgnoreTypes(diag.Range{}), cmpopts.EquateEmpty()}

// roundTrip checks that Format keeps the tree and every comment, and is
// idempotent. It returns the formatted text.
func roundTrip(t *testing.T, name string, src []byte) []byte {
	t.Helper()
	f, ds := ParseFile(name, src)
	if ds.HasErrors() {
		return nil
	}
	out := Format(f)
	g, ds := ParseFile(name, out)
	if len(ds) > 0 {
		t.Fatalf("%s: formatted text does not parse: %v\n--- input\n%s\n--- formatted\n%s", name, ds, src, out)
	}
	if d := cmp.Diff(f.Decls, g.Decls, ignoreRanges); d != "" {
		t.Fatalf("%s: Format changed the tree (-src +formatted):\n%s\n--- input\n%s\n--- formatted\n%s", name, d, src, out)
	}
	if len(f.Comments) != len(g.Comments) {
		t.Fatalf("%s: %d comments, %d after Format\n--- input\n%s\n--- formatted\n%s", name, len(f.Comments), len(g.Comments), src, out)
	}
	for i := range f.Comments {
		if f.Comments[i].Text != g.Comments[i].Text && f.Comments[i].Text != g.Comments[i].Text+" " {
			// trailing blanks are trimmed; nothing else may change
			if got, want := g.Comments[i].Text, trimRight(f.Comments[i].Text); got != want {
				t.Fatalf("%s: comment %d is %q, was %q", name, i, got, want)
			}
		}
	}
	if again := Format(g); string(again) != string(out) {
		t.Fatalf("%s: Format not idempotent\n--- once\n%s\n--- twice\n%s", name, out, again)
	}
	return out
}

func trimRight(s string) string {
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func TestFormatTestdata(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.fw")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, ds := ParseFile(name, src); len(ds) > 0 {
			t.Errorf("%s: %v", name, ds)
			continue
		}
		roundTrip(t, name, src)
	}
}

func TestFormatLayout(t *testing.T) {
	tests := []struct{ in, want string }{
		{"zone lan { iface eth1,eth2 ; net 10.0.0.0/8 }  # trailing\n",
			"zone lan {\n\tiface eth1, eth2\n\tnet 10.0.0.0/8\n} # trailing\n"},
		{"# head\n\n\n\n# about a\ndefine a = 1 # one\ndefine b = tcp / 1000 - 2000\n\n\ndefine c = 10.0.0.1 : 80\n# tail\n",
			"# head\n\n# about a\ndefine a = 1 # one\ndefine b = tcp/1000-2000\n\ndefine c = 10.0.0.1:80\n# tail\n"},
		{"table filter { # filter\n  chain input policy drop priority -150 {\n\n   # loopback\n   iif lo accept\n\n\n   tcp dport 22,\n     # why\n     80 accept # web\n   # last\n  }\n}\n",
			"table filter { # filter\n\tchain input policy drop priority -150 {\n\t\t# loopback\n\t\tiif lo accept\n\n\t\t# why\n\t\ttcp dport 22, 80 accept # web\n\t\t# last\n\t}\n}\n"},
		{"set s : ipv4_addr . port { elements { 10.0.0.1 . 80, 10.0.0.2 . 443 timeout 1h } ; timeout 3d }\n",
			"set s : ipv4_addr . port {\n\telements { 10.0.0.1 . 80, 10.0.0.2 . 443 timeout 1h }\n\ttimeout 3d\n}\n"},
		{"set s : ipv4_addr { elements { 10.0.0.1, # first\n 10.0.0.2 } }\n",
			"set s : ipv4_addr {\n\telements {\n\t\t10.0.0.1, # first\n\t\t10.0.0.2\n\t}\n}\n"},
		{"define x = a - 1, x-1, fd00::1 : 80, [fd00::1]:80, { }, {1,2}, \"q\\\"\"\n",
			"define x = a - 1, x-1, fd00::1 : 80, [fd00::1]:80, {}, { 1, 2 }, \"q\\\"\"\n"},
		{"from a to b saddr . tcp dport != @s tcp syn tcp flags != fin|syn / all mark route r ct mark != 1 log level 4 flags x,y prefix \"p\" masquerade to :1000-2000 random\n",
			"from a to b saddr . tcp dport != @s tcp syn tcp flags != fin|syn / all mark route r ct mark != 1 log prefix \"p\" level 4 flags x, y masquerade to :1000-2000 random\n"},
		{"balance web { masquerade ; endpoints 1.2.3.4:80,\n 1.2.3.5:80 ; address 10.0.0.1; service tcp/80 }\nroute r { default via 1.1.1.1 dev eth0 ; mark 1 }\n",
			"balance web {\n\tmasquerade\n\tendpoints 1.2.3.4:80, 1.2.3.5:80\n\taddress 10.0.0.1\n\tservice tcp/80\n}\nroute r {\n\tdefault via 1.1.1.1 dev eth0\n\tmark 1\n}\n"},
		{"zone z {}\nset e : ifname {}\n", "zone z {\n}\nset e : ifname\n"},
		{"assert   management from a to self tcp dport 22,\n 80 accept # mgmt\nassert from a to b masquerade\n",
			"assert management from a to self tcp dport 22, 80 accept # mgmt\nassert from a to b masquerade\n"},
	}
	for _, tt := range tests {
		out := roundTrip(t, "f.fw", []byte(tt.in))
		if string(out) != tt.want {
			t.Errorf("Format(%q):\n got %q\nwant %q\n%s", tt.in, out, tt.want, out)
		}
	}
}
