package diag

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// RenderGitHub writes ds, sorted and uncapped, as GitHub Actions workflow
// commands, one a line, so that a workflow step running fwc check shows each
// diagnostic as an annotation on the policy's lines:
//
//	::error file=host.fw,line=7,col=6,endLine=7,endColumn=9,title=FW0102::unknown zone "lna" [FW0102]%0A...
//
// error is ::error, warning ::warning and info ::notice. The message is
// the summary and code, then the detail on the following lines. Paths are
// relative to the working directory when inside it, as GitHub wants them
// relative to the repository root (run fwc check from there). Values are
// escaped as the runner reads them ('%', CR and LF everywhere; ':' and ','
// also in properties).
func RenderGitHub(w io.Writer, ds Diagnostics) error {
	dir, _ := os.Getwd()
	var b strings.Builder
	for _, d := range ds.Sort() {
		cmd := map[Severity]string{Error: "error", Warning: "warning", Info: "notice"}[d.Severity]
		b.WriteString("::" + cmd)
		r := relRange(dir, d.Subject)
		var props []string
		if r.Filename != "" {
			props = append(props, "file="+escapeProperty(r.Filename))
		}
		if r.Start.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", r.Start.Line), fmt.Sprintf("col=%d", r.Start.Column))
			if r.End.Line > 0 {
				props = append(props, fmt.Sprintf("endLine=%d", r.End.Line), fmt.Sprintf("endColumn=%d", r.End.Column))
			}
		}
		props = append(props, "title="+escapeProperty(d.Code))
		b.WriteString(" " + strings.Join(props, ","))
		msg := d.Summary + " [" + d.Code + "]"
		if d.Detail != "" {
			msg += "\n" + d.Detail
		}
		b.WriteString("::" + escapeData(msg) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
