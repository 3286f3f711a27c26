package lang

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
)

// Loaded is the result of Load: the policy units and every source read.
type Loaded struct {
	Units []*Unit // in path order
	// Sources holds each file's text by the filename used in its ranges:
	// the path as given or joined, cleaned, and relative to the working
	// directory when it lies below it.
	Sources map[string][]byte
}

// Unit is one policy: a root file and everything it includes.
type Unit struct {
	Root string
	// Files holds the root first, then the included files in first-seen
	// order (depth first, in include order), each once. Include
	// declarations stay in the trees.
	Files []*ast.File
}

// Load reads files and directories (a directory stands for every *.fw file
// below it, recursively, sorted) and follows `include "path"` (relative to
// the including file). Each file given or found is a policy root unless
// another loaded file includes it; a root and everything it includes
// (transitively, each file once) is a Unit.
func Load(paths []string) (*Loaded, diag.Diagnostics) {
	l := &loader{
		out:      &Loaded{Sources: map[string][]byte{}},
		files:    map[string]*loadedFile{},
		reported: map[ast.Range]bool{},
	}
	l.cwd, _ = os.Getwd()

	var given []*loadedFile
	for _, p := range paths {
		for _, name := range l.expand(p) {
			if f := l.read(name, nil); f != nil && !f.given {
				f.given = true
				given = append(given, f)
			}
		}
	}
	// Parse the transitive closure so that "included by another file" is
	// known before roots are chosen.
	for _, f := range given {
		l.closure(f)
	}
	reached := map[*loadedFile]bool{}
	var roots []*loadedFile
	for _, f := range given {
		if !f.includedBy {
			roots = append(roots, f)
			l.mark(f, reached)
		}
	}
	// Files included only from inside an include cycle have no outside
	// root; make the first of them a root so they are still checked.
	for _, f := range given {
		if !reached[f] {
			roots = append(roots, f)
			l.mark(f, reached)
		}
	}
	isRoot := map[*loadedFile]bool{}
	for _, r := range roots {
		isRoot[r] = true
	}
	for _, f := range given { // units in path order
		if isRoot[f] {
			l.out.Units = append(l.out.Units, l.unit(f))
		}
	}
	return l.out, l.diags
}

type loader struct {
	out      *Loaded
	cwd      string
	files    map[string]*loadedFile // by absolute path
	diags    diag.Diagnostics
	reported map[ast.Range]bool // include errors already reported
}

type loadedFile struct {
	name       string
	ast        *ast.File
	given      bool
	includedBy bool
	includes   []*edge // in source order; target nil when unreadable
	expanded   bool
}

type edge struct {
	decl   *ast.Include
	target *loadedFile
}

// display turns a path into the name used in ranges and messages.
func (l *loader) display(p string) string {
	p = filepath.Clean(p)
	if filepath.IsAbs(p) && l.cwd != "" {
		if rel, err := filepath.Rel(l.cwd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return rel
		}
	}
	return p
}

func (l *loader) abs(name string) string {
	if a, err := filepath.Abs(name); err == nil {
		return a
	}
	return name
}

// expand resolves a command-line path to the files it names.
func (l *loader) expand(p string) []string {
	name := l.display(p)
	st, err := os.Stat(name)
	if err != nil {
		l.diags.Add(diag.Error, "FW0010", diag.Range{Filename: name}, "cannot read "+name, errText(err))
		return nil
	}
	if !st.IsDir() {
		return []string{name}
	}
	var out []string
	err = filepath.WalkDir(name, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			l.diags.Add(diag.Error, "FW0010", diag.Range{Filename: l.display(path)}, "cannot read "+l.display(path), errText(err))
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(path, ".fw") {
			out = append(out, l.display(path))
		}
		return nil
	})
	if err != nil {
		l.diags.Add(diag.Error, "FW0010", diag.Range{Filename: name}, "cannot read "+name, errText(err))
	}
	if len(out) == 0 {
		l.diags.Add(diag.Warning, "FW0013", diag.Range{Filename: name}, "no .fw files in "+name, "")
	}
	return out
}

func errText(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	s := err.Error()
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// read parses a file once. from is the include that names it, or nil for
// a command-line path; read errors are reported there.
func (l *loader) read(name string, from *ast.Include) *loadedFile {
	key := l.abs(name)
	if f, ok := l.files[key]; ok {
		return f
	}
	src, err := os.ReadFile(name)
	if err == nil {
		if st, serr := os.Stat(name); serr == nil && st.IsDir() {
			err = fmt.Errorf("is a directory")
		}
	}
	if err != nil {
		if from == nil {
			l.diags.Add(diag.Error, "FW0010", diag.Range{Filename: name}, "cannot read "+name, errText(err))
		} else if !l.reported[from.Range] {
			l.reported[from.Range] = true
			l.diags.Add(diag.Error, "FW0012", Span(from.Path), "included file "+name+" not found", errText(err))
		}
		return nil
	}
	f := &loadedFile{name: name}
	l.files[key] = f
	l.out.Sources[name] = src
	var ds diag.Diagnostics
	f.ast, ds = ParseFile(name, src)
	l.diags = append(l.diags, ds...)
	return f
}

// closure reads everything f includes, transitively.
func (l *loader) closure(f *loadedFile) {
	if f.expanded {
		return
	}
	f.expanded = true
	for _, d := range f.ast.Decls {
		inc, ok := d.(*ast.Include)
		if !ok || inc.Path == nil {
			continue
		}
		p := inc.Path.Text
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(f.name), p)
		}
		t := l.read(l.display(p), inc)
		f.includes = append(f.includes, &edge{decl: inc, target: t})
		if t != nil {
			if t != f {
				t.includedBy = true
			}
			l.closure(t)
		}
	}
}

func (l *loader) mark(f *loadedFile, seen map[*loadedFile]bool) {
	if seen[f] {
		return
	}
	seen[f] = true
	for _, e := range f.includes {
		if e.target != nil {
			l.mark(e.target, seen)
		}
	}
}

// unit collects root's files depth first and reports include cycles at the
// include that closes them.
func (l *loader) unit(root *loadedFile) *Unit {
	u := &Unit{Root: root.name}
	seen := map[*loadedFile]bool{}
	var stack []*edge // includes currently being followed
	onStack := map[*loadedFile]int{root: 0}
	var walk func(f *loadedFile)
	walk = func(f *loadedFile) {
		seen[f] = true
		u.Files = append(u.Files, f.ast)
		for _, e := range f.includes {
			t := e.target
			if t == nil {
				continue
			}
			if i, ok := onStack[t]; ok {
				l.cycle(e, stack[i:], t)
				continue
			}
			if seen[t] {
				continue
			}
			stack = append(stack, e)
			onStack[t] = len(stack)
			walk(t)
			delete(onStack, t)
			stack = stack[:len(stack)-1]
		}
	}
	walk(root)
	return u
}

func (l *loader) cycle(closing *edge, path []*edge, start *loadedFile) {
	if l.reported[closing.decl.Range] {
		return
	}
	l.reported[closing.decl.Range] = true
	names := []string{start.name}
	var related []diag.Related
	for _, e := range path {
		names = append(names, e.target.name)
		related = append(related, diag.Related{Message: "included here", Range: Span(e.decl)})
	}
	names = append(names, start.name)
	l.diags.Add(diag.Error, "FW0011", Span(closing.decl),
		"include cycle "+strings.Join(names, " -> "),
		"A file may not include itself, directly or through other files. Each file is read once; this include is ignored.",
		related...)
}
