package lang

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// docBlock is one ```fw block of docs/language.md.
type docBlock struct {
	line int // line of the block's first source line
	src  string
}

// docBlocks returns the ```fw blocks of a Markdown file, in order.
func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docBlock
	var cur *docBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```fw":
			cur = &docBlock{line: n + 1}
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.src += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated ```fw block", path, cur.line-1)
	}
	return out
}

// TestLanguageDoc parses every ```fw block of docs/language.md, so that the
// reference shows only syntax the parser accepts. Blocks are parsed, not
// checked: a block may use names declared in another block.
func TestLanguageDoc(t *testing.T) {
	const path = "../docs/language.md"
	blocks := docBlocks(t, path)
	if len(blocks) < 10 {
		t.Fatalf("%s: found %d ```fw blocks; expected the reference's examples", path, len(blocks))
	}
	for _, b := range blocks {
		name := fmt.Sprintf("%s:%d", path, b.line)
		f, ds := ParseFile(name, []byte(b.src))
		for _, d := range ds {
			// Positions are relative to the block; shift them to the file.
			t.Errorf("%s:%d:%d: %s: %s [%s]", path, b.line+d.Subject.Start.Line-1, d.Subject.Start.Column, d.Severity, d.Summary, d.Code)
		}
		if f == nil || len(f.Decls) == 0 {
			t.Errorf("%s: block parsed to no declarations", name)
		}
	}
}
