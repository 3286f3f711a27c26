package lang

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

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

// MaxFileSize is the largest policy file fwc reads, in bytes (16 MiB): a
// policy of 50,000 rules is a few MiB, and a cap keeps a mistaken or
// hostile path (a huge log, a growing file) from taking the memory of the
// host that installs the firewall.
const MaxFileSize = 16 << 20

// LoadOptions widen what Load may read.
type LoadOptions struct {
	// IncludeRoots are directories includes may also reach, besides the
	// tree of the command-line path that led to the including file.
	IncludeRoots []string
	// Overlay holds file contents by absolute, cleaned path that are read
	// instead of the file on disk, which need not exist: an editor's
	// unsaved buffers (fwc lsp). Everything else about a file, such as
	// which tree its includes must stay in, is decided as for a file on
	// disk.
	Overlay map[string][]byte
}

// Load reads files and directories (a directory stands for every *.fw file
// below it, recursively, sorted) and follows `include "path"` (relative to
// the including file). Each file given or found is a policy root unless
// another loaded file includes it; a root and everything it includes
// (transitively, each file once) is a Unit.
//
// Includes stay inside a tree: the directory given on the command line, or
// the directory of the file given, that the including file was reached
// from (or one of opts.IncludeRoots). A path that leaves it, by "..", by
// being absolute or through a symlink, is refused (FW0014). Every file
// read must be a regular file of at most MaxFileSize bytes; a file whose
// name does not end in .fw and that does not parse is not a policy, and its
// text is never shown (FW0015).
func Load(paths []string) (*Loaded, diag.Diagnostics) {
	return LoadWith(paths, LoadOptions{})
}

// LoadWith is Load with options.
func LoadWith(paths []string, opts LoadOptions) (*Loaded, diag.Diagnostics) {
	l := &loader{
		out:      &Loaded{Sources: map[string][]byte{}},
		files:    map[string]*loadedFile{},
		reported: map[diag.Range]bool{},
		overlay:  opts.Overlay,
	}
	l.cwd, _ = os.Getwd()
	for _, r := range opts.IncludeRoots {
		l.roots = append(l.roots, l.abs(r))
	}

	var given []*loadedFile
	for _, p := range paths {
		tree := l.abs(p)
		if _, ok := l.overlay[tree]; ok {
			tree = filepath.Dir(tree)
		} else if st, err := os.Stat(p); err == nil && !st.IsDir() {
			tree = filepath.Dir(tree)
		}
		for _, name := range l.expand(p) {
			if f := l.read(name, tree, nil); f != nil && !f.given {
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
	reported map[diag.Range]bool // include errors already reported
	roots    []string            // LoadOptions.IncludeRoots, absolute
	overlay  map[string][]byte   // LoadOptions.Overlay
}

type loadedFile struct {
	name string
	// tree is the directory (absolute, as given) its includes must stay
	// in: that of the command-line path it was first reached from.
	tree       string
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
	if _, ok := l.overlay[l.abs(name)]; ok {
		return []string{name}
	}
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
			// A link found in the walk (not named by the user) is
			// held to the walked tree, as an include is.
			if d.Type()&fs.ModeSymlink != 0 {
				real, rerr := filepath.EvalSymlinks(path)
				realDir, derr := filepath.EvalSymlinks(name)
				if rerr == nil && derr == nil && !within(realDir, real) {
					l.diags.Add(diag.Error, "FW0014", diag.Range{Filename: l.display(path)}, l.display(path)+" leaves the policy tree",
						"It is a symlink to "+real+", outside "+name+". Name the file on the command line to read it.")
					return nil
				}
			}
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
// a command-line path; read errors are reported there. tree is the
// directory the file's own includes must stay in.
func (l *loader) read(name, tree string, from *ast.Include) *loadedFile {
	key := l.abs(name)
	var root, rel string
	if from != nil {
		var ok bool
		// Checked before the cache: the file may be in the tree of an
		// earlier includer and not in this one's.
		if root, rel, ok = l.resolve(key, tree, from); !ok {
			return nil
		}
	}
	if f, ok := l.files[key]; ok {
		return f
	}
	var src []byte
	var err error
	over, inOverlay := l.overlay[key]
	switch {
	case inOverlay:
		src = over
	case from == nil:
		src, err = ReadFile(name)
	default:
		src, err = readBelow(root, rel)
	}
	if err != nil {
		if from == nil {
			l.diags.Add(diag.Error, "FW0010", diag.Range{Filename: name}, "cannot read "+name, errText(err))
		} else if !l.reported[from.Range] {
			l.reported[from.Range] = true
			summary := "cannot read included file " + name
			if errors.Is(err, fs.ErrNotExist) {
				summary = "included file " + name + " not found"
			}
			l.diags.Add(diag.Error, "FW0012", from.Path.Span(), summary, errText(err))
		}
		return nil
	}
	f := &loadedFile{name: name, tree: tree}
	l.files[key] = f
	var ds diag.Diagnostics
	var show bool
	// The name that decides whether this is a policy file is the one the
	// data really has: a link "x.fw" to /etc/shadow is not a policy.
	real := name
	if from != nil {
		real = filepath.Join(root, rel)
	}
	if r, err := filepath.EvalSymlinks(real); err == nil {
		real = r
	}
	f.ast, ds, show = parseNamed(name, real, src)
	if show {
		l.out.Sources[name] = src
	}
	l.diags = append(l.diags, ds...)
	return f
}

// resolve finds the first allowed tree (the includer's, then the
// --include-root ones) that holds path (absolute, cleaned) once its
// symlinks are resolved, and returns the tree (resolved too) with the
// path relative to it. A path below none of them, or one whose symlinks
// lead out of every tree, is reported as FW0014.
func (l *loader) resolve(path, tree string, from *ast.Include) (root, rel string, ok bool) {
	roots := append([]string{tree}, l.roots...)
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		// Missing, most likely: open it lexically, which fails with
		// the reason.
		for _, r := range roots {
			if within(r, path) {
				rel, _ := filepath.Rel(r, path)
				return r, rel, true
			}
		}
		l.outside(from, path, "it is not below "+strings.Join(roots, " or "))
		return "", "", false
	}
	for _, r := range roots {
		if rr, err := filepath.EvalSymlinks(r); err == nil && within(rr, real) {
			rel, _ := filepath.Rel(rr, real)
			return rr, rel, true
		}
	}
	for _, r := range roots {
		if within(r, path) {
			l.outside(from, path, "it is a symlink to "+real+", outside "+strings.Join(roots, " and "))
			return "", "", false
		}
	}
	l.outside(from, path, "it is not below "+strings.Join(roots, " or "))
	return "", "", false
}

// readBelow opens rel inside the directory root as an os.Root, so that no
// "..", absolute symlink or symlink to a parent leads out of it even if
// the files change between resolve and the open.
func readBelow(root, rel string) ([]byte, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fh, err := r.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return readRegular(fh)
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (l *loader) outside(from *ast.Include, path, why string) {
	if l.reported[from.Range] {
		return
	}
	l.reported[from.Range] = true
	l.diags.Add(diag.Error, "FW0014", from.Path.Span(), "include of "+l.display(path)+" leaves the policy tree",
		"Includes may only read files below the directory of the policy given on the command line: "+why+
			". Pass --include-root DIR to allow another directory.")
}

// ReadFile reads a policy file named on the command line: it must be a
// regular file (a FIFO or a device is refused without blocking on it) of
// at most MaxFileSize bytes.
func ReadFile(name string) ([]byte, error) {
	fh, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return readRegular(fh)
}

// readRegular reads an opened file after checking, on the open descriptor
// (not the path, which may have changed), that it is a regular file; at
// most MaxFileSize bytes are read, whatever size the file claims (files in
// /proc say 0).
func readRegular(fh *os.File) ([]byte, error) {
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	switch {
	case st.IsDir():
		return nil, errors.New("is a directory")
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("is not a regular file (%s)", fileKind(st.Mode()))
	case st.Size() > MaxFileSize:
		return nil, tooBig()
	}
	return ReadAll(fh)
}

// ReadAll reads r to its end, failing once more than MaxFileSize bytes
// come: standard input is held to the same limit as files.
func ReadAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, tooBig()
	}
	return b, nil
}

func tooBig() error {
	return errors.New("is larger than the " + strconv.Itoa(MaxFileSize>>20) + " MiB a policy file may have")
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// ParseNamed parses a file read from name, and says whether its text may be
// shown in diagnostics. A file whose name does not end in .fw and that does
// not parse is not a policy (a key, a password file, /proc/self/environ
// reached by a mistaken include): its syntax errors would quote its
// secrets, so they become one FW0015 that gives only the position of the
// first, and its text is kept out of snippets.
func ParseNamed(name string, src []byte) (*ast.File, diag.Diagnostics, bool) {
	real := name
	if r, err := filepath.EvalSymlinks(name); err == nil {
		real = r
	}
	return parseNamed(name, real, src)
}

// parseNamed is ParseNamed for a file shown as name whose data is at real
// (symlinks resolved).
func parseNamed(name, real string, src []byte) (*ast.File, diag.Diagnostics, bool) {
	f, ds := ParseFile(name, src)
	if !ds.HasErrors() || strings.HasSuffix(real, ".fw") {
		return f, ds, true
	}
	var first *diag.Diagnostic
	for _, d := range ds {
		if d.Severity == diag.Error {
			first = d
			break
		}
	}
	at := diag.Range{Filename: name, Start: first.Subject.Start}
	var out diag.Diagnostics
	out.Add(diag.Error, "FW0015", at, name+" is not a policy file",
		"It does not parse (the first error is at line "+strconv.Itoa(at.Start.Line)+", column "+strconv.Itoa(at.Start.Column)+
			"), and its name does not end in .fw, so its text is not shown. Rename a policy file to NAME.fw to see its errors.")
	return f, out, false
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
		t := l.read(l.display(p), f.tree, inc)
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
		related = append(related, diag.Related{Message: "included here", Range: e.decl.Span()})
	}
	names = append(names, start.name)
	l.diags.Add(diag.Error, "FW0011", closing.decl.Span(),
		"include cycle "+strings.Join(names, " -> "),
		"A file may not include itself, directly or through other files. Each file is read once; this include is ignored.",
		related...)
}
