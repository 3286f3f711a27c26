package analysis

import (
	"fmt"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
)

// Suppression is one parsed `# fwc:ignore CODES reason` comment.
type Suppression struct {
	Comment *ast.Comment
	Codes   []string // upper case, as written
	Reason  string   // "" when missing
	// Trailing is set when the comment follows code on its line; it then
	// covers that line only. A comment on a line of its own covers its line
	// and the next.
	Trailing bool
}

// Line is the comment's line.
func (s *Suppression) Line() int { return s.Comment.Start.Line }

// lastLine is the last line s covers.
func (s *Suppression) lastLine() int {
	if s.Trailing {
		return s.Line()
	}
	return s.Line() + 1
}

// Covers reports whether s applies to d.
func (s *Suppression) Covers(d *diag.Diagnostic) bool {
	if d.Subject.Filename != s.Comment.Filename {
		return false
	}
	if l := d.Subject.Start.Line; l < s.Line() || l > s.lastLine() {
		return false
	}
	for _, c := range s.Codes {
		if c == d.Code {
			return true
		}
	}
	return false
}

const ignorePrefix = "fwc:ignore"

// ParseSuppression parses a comment; ok is false when it is not a
// suppression. Codes are the leading words that look like codes (FW and
// four digits, commas allowed between them); the rest, up to a further
// "#", is the reason.
func ParseSuppression(c *ast.Comment) (s *Suppression, ok bool) {
	text := strings.TrimSpace(strings.TrimPrefix(c.Text, "#"))
	rest, ok := strings.CutPrefix(text, ignorePrefix)
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return nil, false
	}
	s = &Suppression{Comment: c}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		word, after, _ := strings.Cut(rest, " ")
		var codes []string
		for _, w := range strings.Split(word, ",") {
			if w == "" {
				continue
			}
			if !isCode(w) {
				codes = nil
				break
			}
			codes = append(codes, strings.ToUpper(w))
		}
		if codes == nil {
			break
		}
		s.Codes = append(s.Codes, codes...)
		rest = strings.TrimSpace(after)
	}
	// A further "#" starts another comment (an annotation such as a test's
	// want), not part of the reason.
	if i := strings.Index(rest, "#"); i >= 0 {
		rest = strings.TrimSpace(rest[:i])
	}
	s.Reason = rest
	return s, true
}

func isCode(w string) bool {
	if len(w) != 6 || !strings.EqualFold(w[:2], "FW") {
		return false
	}
	for _, r := range w[2:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Suppressions returns every suppression comment of files, in order.
func Suppressions(files []*ast.File) []*Suppression {
	var out []*Suppression
	for _, f := range files {
		if f == nil {
			continue
		}
		var starts map[int]int
		for _, c := range f.Comments {
			if s, ok := ParseSuppression(c); ok {
				if starts == nil {
					starts = lineStarts(f)
				}
				col, ok := starts[c.Start.Line]
				s.Trailing = ok && col < c.Start.Column
				out = append(out, s)
			}
		}
	}
	return out
}

// lineStarts maps each line on which a declaration, chain, rule or item
// starts to the smallest column where one does.
func lineStarts(f *ast.File) map[int]int {
	m := map[int]int{}
	add := func(n ast.Node) {
		r := n.Span()
		if col, ok := m[r.Start.Line]; !ok || r.Start.Column < col {
			m[r.Start.Line] = r.Start.Column
		}
	}
	for _, d := range f.Decls {
		add(d)
		switch d := d.(type) {
		case *ast.Table:
			for _, c := range d.Chains {
				add(c)
				for _, r := range c.Rules {
					add(r)
				}
			}
		case *ast.Zone:
			for _, it := range d.Items {
				add(it)
			}
		case *ast.Set:
			for _, e := range d.Elements {
				add(e)
			}
		case *ast.Route:
			for _, e := range d.Routes {
				add(e)
			}
		case *ast.Balance:
			for _, e := range d.Endpoints {
				add(e)
			}
		}
	}
	return m
}

// Suppress drops the diagnostics that a suppression comment in files
// covers and adds diagnostics about the comments themselves: a missing
// reason (FW1991), a suppression of a code in known that suppressed nothing
// (FW1992), and a code that is neither in known nor registered at all
// (FW1993). Codes registered by other stages but not in known are left
// alone: the pass that reports them did not run. The errors of the codes in
// bound are never suppressed (see Analyzer.Binding); a suppression that
// covers one is reported (FW1994), and one of them that suppressed nothing
// is not (they are reported or not by the backends asked for).
func Suppress(files []*ast.File, ds diag.Diagnostics, known, bound map[string]bool) diag.Diagnostics {
	sups := Suppressions(files)
	if len(sups) == 0 {
		return ds
	}
	type key struct {
		s    *Suppression
		code string
	}
	used := map[key]bool{}
	refused := map[key]bool{}
	var out diag.Diagnostics
	for _, d := range ds {
		hit := false
		for _, s := range sups {
			if s.Covers(d) && binding(d, bound) {
				refused[key{s, d.Code}] = true
				continue
			}
			if s.Covers(d) {
				used[key{s, d.Code}] = true
				hit = true
			}
		}
		if !hit {
			out = append(out, d)
		}
	}
	for _, s := range sups {
		at := s.Comment.Span()
		if len(s.Codes) == 0 {
			out.Add(diag.Warning, CodeUnknownCode, at, "suppression names no code",
				`Write the code to suppress after "fwc:ignore", then the reason: "# fwc:ignore FW1401 reason".`)
			continue
		}
		if s.Reason == "" {
			out.Add(diag.Warning, CodeNoReason, at, "suppression without a reason",
				"Say after the code why the finding does not apply here.")
		}
		for _, c := range s.Codes {
			switch {
			case refused[key{s, c}] && !used[key{s, c}]:
				out.Add(diag.Warning, CodeBinding, at, fmt.Sprintf("%s cannot be suppressed here", c),
					"The error says that a backend asked for cannot express the rule: fwc translate would refuse the policy whatever this comment says. Rewrite the rule or translate for another backend.")
			case used[key{s, c}]:
			case bound[c]:
				// Whether it is reported depends on the backends asked
				// for: the same comment serves a run with other ones.
			case known[c]:
				out.Add(diag.Warning, CodeUnused, at, fmt.Sprintf("unused suppression of %s", c),
					unusedDetail(s, c))
			default:
				if _, registered := diag.Lookup(c); !registered {
					out.Add(diag.Warning, CodeUnknownCode, at, fmt.Sprintf("suppression of unknown code %s", c),
						`"fwc explain" lists the codes.`)
				}
			}
		}
	}
	return out
}

func unusedDetail(s *Suppression, code string) string {
	if s.Trailing {
		return fmt.Sprintf("No %s diagnostic is reported on line %d; remove the suppression.", code, s.Line())
	}
	return fmt.Sprintf("No %s diagnostic is reported on line %d or %d; remove the suppression.", code, s.Line(), s.Line()+1)
}
