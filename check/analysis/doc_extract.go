package analysis

import (
	"fmt"
	"regexp"
	"strings"
)

// WithDoc fills in a's Title and Doc, and the Title and Doc of each of its
// Codes, from the package doc comment of src, and returns a. src is the
// pass's doc.go, embedded with go:embed as golang.org/x/tools passes embed
// theirs, so that one text is what go doc shows for the package, what
// Analyzer.Doc holds and what `fwc explain` prints for each code:
//
//	# Analyzer NAME
//
//	NAME: the analyzer's title
//
//	The analyzer's Doc, up to the next section.
//
//	# FW1501: the code's title
//
//	The code's Doc, up to the next section.
//
// Other headings ("# What it models") belong to the section they are in.
// Lines indented with a tab (gofmt's code blocks) are indented with four
// spaces, as explain has always printed examples. Severities stay in Go,
// in a.Codes.
//
// A missing section, or a title or doc also written in Go, is a
// programming error: WithDoc panics at start-up, so that any test catches
// it.
func WithDoc(src string, a *Analyzer) *Analyzer {
	secs, err := docSections(src)
	if err != nil {
		panic("analysis: " + a.Name + ": " + err.Error())
	}
	s, ok := secs["Analyzer "+a.Name]
	if !ok {
		panic("analysis: " + a.Name + ": doc.go has no section \"# Analyzer " + a.Name + "\"")
	}
	title, body, ok := strings.Cut(s.text, "\n\n")
	title, ok2 := strings.CutPrefix(title, a.Name+": ")
	if !ok || !ok2 || a.Title != "" || a.Doc != "" {
		panic("analysis: " + a.Name + ": the section \"# Analyzer " + a.Name + "\" must begin \"" + a.Name + ": title\" and a paragraph, and Title and Doc must not be set in Go")
	}
	a.Title, a.Doc = title, body
	for i, c := range a.Codes {
		s, ok := secs[c.Code]
		if !ok || c.Title != "" || c.Doc != "" {
			panic("analysis: " + a.Name + ": doc.go has no section \"# " + c.Code + ": title\", or its title or doc is also set in Go")
		}
		a.Codes[i].Title, a.Codes[i].Doc = s.title, s.text
	}
	return a
}

// A docSection is one section of a pass's doc: its title (for a code) and
// its text.
type docSection struct{ title, text string }

var docHeading = regexp.MustCompile(`^# (Analyzer [a-z]+|(FW\d{4}): (.+))$`)

// docHeadingOf matches line against docHeading; most lines are text, and
// the prefix test spares them the regexp at every start of fwc.
func docHeadingOf(line string) []string {
	if !strings.HasPrefix(line, "# ") {
		return nil
	}
	return docHeading.FindStringSubmatch(line)
}

// DocSections returns the sections of the package doc comment of src, a
// pass's doc.go, by key: "Analyzer NAME", or the code ("FW1501").
func DocSections(src string) (map[string]string, error) {
	secs, err := docSections(src)
	out := map[string]string{}
	for k, s := range secs {
		out[k] = s.text
		if s.title != "" {
			out[k] = s.title + "\n\n" + s.text
		}
	}
	return out, err
}

func docSections(src string) (map[string]docSection, error) {
	// The package doc comment, read by hand rather than with go/parser,
	// which would add milliseconds to every start of fwc: a doc.go is
	// line comments ("// text", "//", gofmt's "//\tcode") up to its
	// package clause.
	var doc []string
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(line, "package ") {
			break
		}
		rest, ok := strings.CutPrefix(line, "//")
		if !ok {
			doc = nil // not the package's doc comment: a later one may be
			continue
		}
		rest, _ = strings.CutPrefix(rest, " ")
		doc = append(doc, rest)
	}
	if len(doc) == 0 {
		return nil, fmt.Errorf("doc.go has no package doc comment")
	}
	secs := map[string]docSection{}
	key, title := "", ""
	var text []string
	flush := func() error {
		if key == "" {
			return nil
		}
		if _, dup := secs[key]; dup {
			return fmt.Errorf("doc.go has two sections %q", key)
		}
		secs[key] = docSection{title, strings.TrimSpace(strings.Join(text, "\n"))}
		return nil
	}
	for _, line := range doc {
		if m := docHeadingOf(line); m != nil {
			if err := flush(); err != nil {
				return nil, err
			}
			key, title, text = m[1], m[3], nil
			if m[2] != "" {
				key = m[2]
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "\t"); ok {
			line = "    " + rest
		}
		text = append(text, line)
	}
	return secs, flush()
}
