// Package diag holds diagnostics as data: a severity, a stable code, a one-line
// summary, a detail in whole sentences, the source range it is about and any
// related ranges. Every stage of fwc returns diagnostics of this type; they are
// rendered in one place (RenderText, RenderJSON, RenderSARIF) so text, JSON
// and SARIF agree.
//
// diag is a leaf: it imports nothing of fwc's.
package diag

import (
	"cmp"
	"fmt"
	"slices"
)

// Pos is a point in a source file. Line and Column are 1-based; Column counts
// bytes, not runes, from the start of the line. Byte is the 0-based offset in
// the file. The zero Pos means "no position".
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// Range is a span of source text. End is exclusive.
type Range struct {
	Filename string `json:"file"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Span returns the range itself: the syntax tree's nodes embed a Range, which
// makes each of them an ast.Node.
func (r Range) Span() Range { return r }

// IsZero reports whether r carries no position at all.
func (r Range) IsZero() bool { return r.Filename == "" && r.Start.Line == 0 }

// String prints file:line:col, the form editors jump to.
func (r Range) String() string {
	if r.Start.Line == 0 {
		return r.Filename
	}
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// Through returns the range that starts at r and ends where o ends.
func (r Range) Through(o Range) Range {
	if o.IsZero() {
		return r
	}
	if r.IsZero() {
		return o
	}
	r.End = o.End
	return r
}

// Severity orders diagnostics; higher is worse.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText makes severities read as words in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the words MarshalText writes.
func (s *Severity) UnmarshalText(b []byte) error {
	v, ok := ParseSeverity(string(b))
	if !ok {
		return fmt.Errorf("unknown severity %q", b)
	}
	*s = v
	return nil
}

// ParseSeverity is the inverse of Severity.String, for configuration.
func ParseSeverity(s string) (Severity, bool) {
	switch s {
	case "info":
		return Info, true
	case "warning":
		return Warning, true
	case "error":
		return Error, true
	}
	return 0, false
}

// Related is a secondary range that helps explain a diagnostic, such as the
// earlier rule that shadows the one reported.
type Related struct {
	Message string `json:"message"`
	Range   Range  `json:"range"`
}

// Diagnostic is one finding.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	// Code is the stable identifier, "FW0101"; see Registry for its docs.
	Code string `json:"code"`
	// Summary is a short phrase without a trailing period.
	Summary string `json:"summary"`
	// Detail is zero or more whole sentences.
	Detail string `json:"detail,omitempty"`
	// Subject is the range the diagnostic is about.
	Subject Range     `json:"range"`
	Related []Related `json:"related,omitempty"`
}

func (d *Diagnostic) Error() string {
	return fmt.Sprintf("%s: %s: %s [%s]", d.Subject, d.Severity, d.Summary, d.Code)
}

// Diagnostics is a list of findings. Functions return it alongside their
// result and keep going after an error so one run reports every problem.
type Diagnostics []*Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns how many diagnostics have severity s.
func (ds Diagnostics) Count(s Severity) int {
	n := 0
	for _, d := range ds {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// Add appends a diagnostic built from its parts and returns the list.
func (ds *Diagnostics) Add(sev Severity, code string, subject Range, summary, detail string, related ...Related) *Diagnostic {
	d := &Diagnostic{Severity: sev, Code: code, Summary: summary, Detail: detail, Subject: subject, Related: related}
	*ds = append(*ds, d)
	return d
}

// Errorf appends an error diagnostic with a formatted summary.
func (ds *Diagnostics) Errorf(code string, subject Range, format string, args ...any) *Diagnostic {
	return ds.Add(Error, code, subject, fmt.Sprintf(format, args...), "")
}

// Warnf appends a warning diagnostic with a formatted summary.
func (ds *Diagnostics) Warnf(code string, subject Range, format string, args ...any) *Diagnostic {
	return ds.Add(Warning, code, subject, fmt.Sprintf(format, args...), "")
}

// Sort orders by file, line, column, then severity (worst first) and code,
// and drops exact duplicates and any second error on the same line with the
// same code, which is almost always a consequence of the first.
func (ds Diagnostics) Sort() Diagnostics {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b *Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Subject.Filename, b.Subject.Filename),
			cmp.Compare(a.Subject.Start.Line, b.Subject.Start.Line),
			cmp.Compare(a.Subject.Start.Column, b.Subject.Start.Column),
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Summary, b.Summary),
		)
	})
	return slices.CompactFunc(out, func(a, b *Diagnostic) bool {
		return a.Code == b.Code && a.Subject.Filename == b.Subject.Filename &&
			a.Subject.Start.Line == b.Subject.Start.Line &&
			(a.Summary == b.Summary || a.Severity == Error)
	})
}
