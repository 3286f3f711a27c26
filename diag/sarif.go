package diag

import (
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"github.com/owenrumney/go-sarif/v2/sarif"
)

// SARIFOptions names the tool in a SARIF log.
type SARIFOptions struct {
	ToolName       string // "fwc" when empty
	Version        string // the tool's version; omitted when empty
	InformationURI string // omitted when empty
}

// RenderSARIF writes ds as a SARIF 2.1.0 log with one run, for code-scanning
// services. The run's rules are the codes that occur in ds, with title and
// documentation from the registry (Lookup); each result carries its level
// ("error", "warning" or "note"), message (summary, then detail), physical
// location and related locations.
//
// SARIF columns count Unicode code points, ours count bytes: src supplies
// the text to convert them, and when it returns nil for a file the byte
// columns are written unchanged (the same for ASCII).
func RenderSARIF(w io.Writer, ds Diagnostics, src func(filename string) []byte, opts SARIFOptions) error {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	name := opts.ToolName
	if name == "" {
		name = "fwc"
	}
	driver := sarif.NewDriver(name)
	if opts.Version != "" {
		driver.Version = &opts.Version
	}
	if opts.InformationURI != "" {
		driver.InformationURI = &opts.InformationURI
	}
	run := sarif.NewRun(*sarif.NewTool(driver))
	run.WithColumnKind("unicodeCodePoints")

	ds = ds.Sort()
	codes := make([]string, 0, len(ds))
	for _, d := range ds {
		codes = append(codes, d.Code)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	index := map[string]int{}
	for i, code := range codes {
		index[code] = i
		rule := run.AddRule(code)
		doc, ok := Lookup(code)
		if !ok {
			// Unregistered codes still need a short description.
			rule.WithShortDescription(sarif.NewMultiformatMessageString(code))
			continue
		}
		rule.WithName(doc.Title).
			WithShortDescription(sarif.NewMultiformatMessageString(doc.Title)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(doc.Severity)))
		if doc.Doc != "" {
			rule.WithFullDescription(sarif.NewMultiformatMessageString(doc.Doc)).WithTextHelp(doc.Doc)
		}
	}

	dir, _ := os.Getwd()
	conv := sarifConverter{dir: dir, src: newSources(src)}
	for _, d := range ds {
		msg := d.Summary
		if d.Detail != "" {
			msg += "\n\n" + d.Detail
		}
		res := run.CreateResultForRule(d.Code).
			WithRuleIndex(index[d.Code]).
			WithLevel(sarifLevel(d.Severity)).
			WithMessage(sarif.NewTextMessage(msg))
		if loc := conv.location(d.Subject); loc != nil {
			res.AddLocation(loc)
		}
		for i, r := range d.Related {
			loc := conv.location(r.Range)
			if loc == nil {
				loc = sarif.NewLocation()
			}
			loc.WithId(i + 1).WithMessage(sarif.NewTextMessage(r.Message))
			res.AddRelatedLocation(loc)
		}
	}
	report.AddRun(run)
	if err := report.PrettyWrite(w); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

func sarifLevel(s Severity) string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

type sarifConverter struct {
	dir string
	src *sources
}

// location is rg as a SARIF location, or nil when rg has no file.
func (c sarifConverter) location(rg Range) *sarif.Location {
	if rg.Filename == "" {
		return nil
	}
	pl := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(c.uri(rg.Filename)))
	if rg.Start.Line > 0 {
		region := sarif.NewRegion().WithStartLine(rg.Start.Line)
		if rg.Start.Column > 0 {
			region.WithStartColumn(c.column(rg.Filename, rg.Start))
		}
		if rg.End.Line >= rg.Start.Line {
			region.WithEndLine(rg.End.Line)
			if rg.End.Column > 0 {
				region.WithEndColumn(c.column(rg.Filename, rg.End))
			}
		}
		pl.WithRegion(region)
	}
	return sarif.NewLocationWithPhysicalLocation(pl)
}

// uri is a relative reference with forward slashes for files under the
// working directory, and a file: URI otherwise.
func (c sarifConverter) uri(name string) string {
	name = RelPath(c.dir, name)
	if filepath.IsAbs(name) {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(name)}).String()
	}
	return (&url.URL{Path: filepath.ToSlash(name)}).String()
}

// column converts p's byte column to a code-point column.
func (c sarifConverter) column(filename string, p Pos) int {
	line := c.src.line(filename, p.Line)
	if line == nil {
		return p.Column
	}
	off := p.Column - 1
	if off > len(line) {
		// Past the end of the line (an end at the newline): count the
		// excess bytes as columns.
		return utf8.RuneCount(line) + 1 + off - len(line)
	}
	return utf8.RuneCount(line[:off]) + 1
}
