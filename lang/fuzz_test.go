package lang

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/grammar.ebnf")

// seed adds the declarations of the testdata files one by one. Whole files
// made the fuzzer look stuck at 0 execs/sec: it minimizes every input that
// finds new coverage for up to -fuzzminimizetime (60s by default) before it
// counts again, and early on nearly every mutation of a kilobyte-sized file
// finds some. Small seeds minimize in milliseconds.
func seed(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.fw")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, d := range splitDecls(src) {
			f.Add(d)
		}
	}
}

// splitDecls cuts src after each newline outside braces.
func splitDecls(src []byte) [][]byte {
	toks, _ := lexAll("", src)
	var out [][]byte
	depth, start := 0, 0
	for _, t := range toks {
		switch {
		case t.Value == "{" && t.Type == tokPunct:
			depth++
		case t.Value == "}" && t.Type == tokPunct && depth > 0:
			depth--
		case t.EOF() || t.Value == "\n" && depth == 0:
			end := t.Pos.Offset + len(t.Value)
			if strings.TrimSpace(string(src[start:end])) != "" {
				out = append(out, src[start:end])
			}
			start = end
		}
	}
	return out
}

// FuzzParse: no input panics, and every diagnostic has a position.
func FuzzParse(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, ds := ParseFile("fuzz.fw", src)
		if file == nil {
			t.Fatal("nil file")
		}
		for _, d := range ds {
			if d.Subject.Start.Line <= 0 || d.Subject.Filename != "fuzz.fw" {
				t.Fatalf("diagnostic without position: %v", d)
			}
			if d.Subject.End.Byte < d.Subject.Start.Byte || d.Subject.End.Byte > len(src) {
				t.Fatalf("bad range %v for %d bytes: %v", d.Subject, len(src), d)
			}
		}
	})
}

// FuzzFormat: Format keeps the tree and the comments and is idempotent.
func FuzzFormat(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		roundTrip(t, "fuzz.fw", src)
	})
}

func TestGrammarFile(t *testing.T) {
	const path = "../docs/grammar.ebnf"
	want := "# The fwc grammar, printed by lang.Grammar() (participle's EBNF).\n" +
		"# Regenerate with: go test ./lang -run TestGrammarFile -update\n\n" + Grammar() + "\n"
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lang -run TestGrammarFile -update)", err)
	}
	if string(got) != want {
		t.Errorf("%s is stale; run go test ./lang -run TestGrammarFile -update", path)
	}
}

// TestMain caps the fuzzer's minimization at 5s an input unless
// -fuzzminimizetime is given. Go's minimizer tries O(n²) cuts of an input
// that finds new coverage, each a run of the target, and most mutated
// inputs end in a syntax error that participle takes a few hundred
// microseconds to word; with the default of 60s the fuzzer showed 0
// execs/sec for minutes at a time.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.fuzzminimizetime" })
	if !given {
		if err := flag.Set("test.fuzzminimizetime", "5s"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
