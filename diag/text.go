package diag

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"
)

// DefaultMax is how many diagnostics RenderText prints when TextOptions.Max
// is zero; the rest are counted in an "and N more" line.
const DefaultMax = 100

// TextOptions controls RenderText.
type TextOptions struct {
	// Color turns on ANSI colour. The caller decides: fwc's commands turn
	// it on only when the output is a terminal and NO_COLOR is unset. Tests
	// and golden files never set it.
	Color bool
	// Max caps how many diagnostics are printed: 0 means DefaultMax, a
	// negative value means no cap.
	Max int
	// Dir is the directory paths are printed relative to; "" means the
	// working directory. Paths outside it are printed as given.
	Dir string
}

// RenderText writes ds for a human, sorted and capped, one diagnostic per
// entry:
//
//	host.fw:3:6: error: unknown zone "lna"; did you mean "lan"? [FW0102]
//	    3 | from lna to wan accept
//	      |      ^~~
//	  Zones are declared with "zone NAME { ... }".
//	host.fw:1:6: note: zone "lan" is declared here
//
// then a count such as "2 errors, 1 warning". The source line comes from
// src(filename), which may return nil (no snippet then); the marker line
// keeps the source line's tabs so it lines up. Only the first line of a
// multi-line subject is marked. An empty ds writes nothing.
func RenderText(w io.Writer, ds Diagnostics, src func(filename string) []byte, opts TextOptions) error {
	if len(ds) == 0 {
		return nil
	}
	ds = ds.Sort()
	max := opts.Max
	if max == 0 {
		max = DefaultMax
	}
	r := textRenderer{
		w:   bufio.NewWriter(w),
		src: newSources(src),
		dir: opts.Dir,
		pal: newPalette(opts.Color),
	}
	if r.dir == "" {
		r.dir, _ = os.Getwd()
	}
	for i, d := range ds {
		if max > 0 && i == max {
			fmt.Fprintf(r.w, "and %d more\n", len(ds)-max)
			break
		}
		r.diagnostic(d)
	}
	fmt.Fprintln(r.w, countLine(ds))
	return r.w.Flush()
}

// countLine says how many diagnostics of each severity there are, worst
// first: "2 errors, 1 warning".
func countLine(ds Diagnostics) string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(ds.Count(Error), "error", "errors")
	add(ds.Count(Warning), "warning", "warnings")
	add(ds.Count(Info), "info", "infos")
	return strings.Join(parts, ", ")
}

type palette struct {
	loc, marker, code *color.Color
	sev               map[Severity]*color.Color
	note              *color.Color
}

func newPalette(on bool) palette {
	p := palette{
		loc:    color.New(color.Bold),
		marker: color.New(color.FgGreen, color.Bold),
		code:   color.New(color.Faint),
		note:   color.New(color.FgCyan, color.Bold),
		sev: map[Severity]*color.Color{
			Error:   color.New(color.FgRed, color.Bold),
			Warning: color.New(color.FgMagenta, color.Bold),
			Info:    color.New(color.FgCyan, color.Bold),
		},
	}
	all := []*color.Color{p.loc, p.marker, p.code, p.note}
	for _, c := range p.sev {
		all = append(all, c)
	}
	for _, c := range all {
		// Override fatih/color's own stdout-based guess: the caller knows
		// which writer this is.
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return p
}

func (p palette) severity(s Severity) *color.Color {
	if c, ok := p.sev[s]; ok {
		return c
	}
	return p.sev[Error]
}

type textRenderer struct {
	w   *bufio.Writer
	src *sources
	dir string
	pal palette
}

func (r *textRenderer) diagnostic(d *Diagnostic) {
	sev := r.pal.severity(d.Severity)
	if loc := r.location(d.Subject); loc != "" {
		fmt.Fprintf(r.w, "%s ", r.pal.loc.Sprint(loc+":"))
	}
	fmt.Fprintf(r.w, "%s %s", sev.Sprint(d.Severity.String()+":"), oneLine(d.Summary))
	if d.Code != "" {
		fmt.Fprintf(r.w, " %s", r.pal.code.Sprint("["+d.Code+"]"))
	}
	fmt.Fprintln(r.w)
	r.snippet(d.Subject)
	if detail := strings.TrimSpace(d.Detail); detail != "" {
		for _, l := range strings.Split(detail, "\n") {
			if l = strings.TrimRight(l, " \t\r"); l == "" {
				fmt.Fprintln(r.w)
			} else {
				fmt.Fprintf(r.w, "  %s\n", l)
			}
		}
	}
	for _, rel := range d.Related {
		if loc := r.location(rel.Range); loc != "" {
			fmt.Fprintf(r.w, "%s ", r.pal.loc.Sprint(loc+":"))
		}
		fmt.Fprintf(r.w, "%s %s\n", r.pal.note.Sprint("note:"), oneLine(rel.Message))
	}
}

// location prints rg as path:line:col (or just path, or "" for no position).
func (r *textRenderer) location(rg Range) string {
	if rg.IsZero() {
		return ""
	}
	rg.Filename = RelPath(r.dir, rg.Filename)
	return rg.String()
}

// snippet prints the subject's first source line with a gutter and a marker
// line under the range.
func (r *textRenderer) snippet(rg Range) {
	line := r.src.line(rg.Filename, rg.Start.Line)
	if line == nil || rg.Start.Column < 1 {
		return
	}
	start := min(rg.Start.Column-1, len(line))
	end := len(line)
	if rg.End.Line == rg.Start.Line && rg.End.Column > rg.Start.Column {
		end = min(rg.End.Column-1, len(line))
	}
	// A subject spanning lines is marked to the end of its first line; an
	// empty one (or one past the end of the line) gets a lone caret.
	var pad strings.Builder
	for _, c := range string(line[:start]) {
		if c == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	width := max(utf8.RuneCount(line[start:end]), 1)
	marker := "^" + strings.Repeat("~", width-1)

	num := strconv.Itoa(rg.Start.Line)
	gutter := strings.Repeat(" ", len(num))
	fmt.Fprintf(r.w, "  %s | %s\n", num, printable(line))
	fmt.Fprintf(r.w, "  %s | %s%s\n", gutter, pad.String(), r.pal.marker.Sprint(marker))
}

// sources reads source lines on demand, splitting each file once.
type sources struct {
	src   func(string) []byte
	lines map[string][][]byte // nil entry: no source for that file
}

func newSources(src func(string) []byte) *sources {
	return &sources{src: src, lines: map[string][][]byte{}}
}

// line returns line n (1-based) of filename without its line ending, or nil
// when the source is unknown or has no such line.
func (s *sources) line(filename string, n int) []byte {
	if s.src == nil || n < 1 {
		return nil
	}
	lines, seen := s.lines[filename]
	if !seen {
		if text := s.src(filename); text != nil {
			lines = bytes.Split(text, []byte("\n"))
		}
		s.lines[filename] = lines
	}
	if n > len(lines) {
		return nil
	}
	return bytes.TrimSuffix(lines[n-1], []byte("\r"))
}

// printable replaces control characters other than tab so a hostile or
// broken file cannot drive the terminal; each stays one byte wide so the
// marker still lines up.
func printable(line []byte) string {
	clean := true
	for _, c := range line {
		if c < 0x20 && c != '\t' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return string(line)
	}
	b := bytes.Clone(line)
	for i, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

// oneLine keeps a message on its line: the format is one header per
// diagnostic and editors parse it.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// RelPath returns name relative to dir when name lies inside dir, and name
// unchanged otherwise (already relative, elsewhere on disk, or dir empty).
func RelPath(dir, name string) string {
	if dir == "" || !filepath.IsAbs(name) {
		return name
	}
	rel, err := filepath.Rel(dir, name)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return name
	}
	return rel
}
