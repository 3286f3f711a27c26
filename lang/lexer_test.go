package lang

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// regexLexDef is lexRules run by participle's regular expression lexer: the
// definition the hand-written lexer must agree with.
var regexLexDef = lexer.MustSimple(lexRules)

func regexLexAll(t testing.TB, src string) []lexer.Token {
	lx, err := regexLexDef.LexString("x.fw", src)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := lexer.ConsumeAll(lx)
	if err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return toks
}

// sameTokens reports the first difference between the two lexers on src.
func sameTokens(t testing.TB, src string) {
	t.Helper()
	want := regexLexAll(t, src)
	got, _ := lexAll("x.fw", []byte(src))
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			var g, w lexer.Token
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			t.Fatalf("%q: token %d: got %#v type %d, want %#v type %d", src, i, g, g.Type, w, w.Type)
		}
	}
	// The participle Lexer interface gives the same tokens.
	lx, _ := lexDef.LexString("x.fw", src)
	viaNext, err := lexer.ConsumeAll(lx)
	if err != nil || len(viaNext) != len(want) {
		t.Fatalf("%q: Next: %d tokens, %v", src, len(viaNext), err)
	}
}

func TestLexerSymbols(t *testing.T) {
	got, want := lexDef.Symbols(), regexLexDef.Symbols()
	if len(got) != len(want) {
		t.Fatalf("symbols %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("symbol %s = %d, want %d", k, got[k], v)
		}
	}
}

func TestLexerAgreesWithRegexps(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.fw")
	more, _ := filepath.Glob("testdata/fuzz/*/*")
	more2, _ := filepath.Glob("../examples/*.fw")
	more3, _ := filepath.Glob("../examples/*/*.fw")
	more2 = append(more2, more3...)
	for _, name := range append(append(files, more...), more2...) {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sameTokens(t, string(src))
	}
	for _, src := range []string{
		"", "\n", "\r\n", "\\\n", "\\\r\n", "\\\rx", "\\", "a\\ b", "# c\r\nx",
		`"a\"b"`, `"a\\"`, `"a\"`, `"a\q"`, "\"abc\n", `""`, `"é"`,
		"::", ":::", "::1", "fd00::1:80", "1:2:3:4:5:6:7:8:9", "fe80::1/64", "::ffff:1.2.3.4/96",
		"12345:1:2", "abc:def:1", "a:b", "::1.2.3", "::1.2.3.4567", "2001:db8::/1234", "::/", "dead:beef::g",
		"1.2.3.4", "1.2.3.4/24", "1.2.3.4/245", "1234.1.1.1", "1.2.3", "1.2.3.4.5", "10.0.0.1:80", "999.999.999.9999",
		"10s", "10ms", "10msx", "10m_", "10h-", "1w", "5d.", "10mss", "0x1f", "0x", "0xg", "1.5", "1.", "1.x", "007",
		"eth0", "eth*", "wg0.100", "a-b-", "a--b", "a.-b", "a.b.c*", "_x", "x.", "random-fully", "a-.b", "ipv4_addr.port",
		"!=", "!", "->", "-", "-1", "{}[],./:=@$|", "%", "é", "\xff", "\xef\xbf\xbd", "a\x00b", "\t \r",
	} {
		sameTokens(t, src)
	}
}

// TestLexerRandom compares the lexers on random strings over an alphabet
// that exercises every rule and its boundaries.
func TestLexerRandom(t *testing.T) {
	const alphabet = "0123456789abcdefxXmswhdzAF_-.:/\\\"#;\n\r\t {}[],!=>@$|*%é\xff"
	pieces := []string{"::", "1.2.3.4", "10ms", "0x", "fd00", "\\\n", `\"`, "eth", "ms", "->", "!="}
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		var b strings.Builder
		for range r.IntN(24) {
			if r.IntN(4) == 0 {
				b.WriteString(pieces[r.IntN(len(pieces))])
			} else {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		sameTokens(t, b.String())
	}
}

func FuzzLexer(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		sameTokens(t, string(src))
	})
}
