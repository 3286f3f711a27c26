package lang

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/grammar.ebnf")

func seed(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.fw")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
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
