package diag

import (
	"encoding/json"
	"io"
	"os"
)

// jsonDiagnostic is the wire form RenderJSON writes. It is spelled out
// rather than taken from Diagnostic's tags so that the field names are a
// stable interface: every field is always present.
type jsonDiagnostic struct {
	Severity Severity      `json:"severity"`
	Code     string        `json:"code"`
	Summary  string        `json:"summary"`
	Detail   string        `json:"detail"`
	Range    Range         `json:"range"`
	Related  []jsonRelated `json:"related"`
}

type jsonRelated struct {
	Message string `json:"message"`
	Range   Range  `json:"range"`
}

// RenderJSON writes ds, sorted and uncapped, as one indented JSON array:
//
//	[
//	  {
//	    "severity": "error",          // "error", "warning" or "info"
//	    "code": "FW0102",
//	    "summary": "unknown zone \"lna\"",
//	    "detail": "",                 // whole sentences, may be empty
//	    "range": {"file": "host.fw",
//	              "start": {"line": 3, "column": 6, "byte": 40},
//	              "end": {"line": 3, "column": 9, "byte": 43}},
//	    "related": [{"message": "...", "range": {...}}]
//	  }
//	]
//
// Lines and columns are 1-based, columns count bytes, byte offsets are
// 0-based and end positions are exclusive; a zero position means none.
// Paths are relative to the working directory when inside it. No
// diagnostics is "[]".
func RenderJSON(w io.Writer, ds Diagnostics) error {
	dir, _ := os.Getwd()
	out := make([]jsonDiagnostic, 0, len(ds))
	for _, d := range ds.Sort() {
		jd := jsonDiagnostic{
			Severity: d.Severity,
			Code:     d.Code,
			Summary:  d.Summary,
			Detail:   d.Detail,
			Range:    relRange(dir, d.Subject),
			Related:  make([]jsonRelated, 0, len(d.Related)),
		}
		for _, r := range d.Related {
			jd.Related = append(jd.Related, jsonRelated{Message: r.Message, Range: relRange(dir, r.Range)})
		}
		out = append(out, jd)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func relRange(dir string, r Range) Range {
	r.Filename = RelPath(dir, r.Filename)
	return r
}
