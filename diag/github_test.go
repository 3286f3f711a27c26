package diag

import (
	"strings"
	"testing"
)

func TestRenderGitHub(t *testing.T) {
	ds := Diagnostics{
		{Severity: Warning, Code: "FW1201", Summary: "rule is redundant", Detail: "100% covered,\nby line 3.",
			Subject: Range{Filename: "a,b:c.fw", Start: Pos{Line: 4, Column: 2}, End: Pos{Line: 4, Column: 9}}},
		{Severity: Error, Code: "FW0102", Summary: `unknown zone "lna"`,
			Subject: Range{Filename: "host.fw", Start: Pos{Line: 7, Column: 6}, End: Pos{Line: 7, Column: 9}}},
		{Severity: Info, Code: "FW1701", Summary: "no position"},
	}
	var b strings.Builder
	if err := RenderGitHub(&b, ds); err != nil {
		t.Fatal(err)
	}
	// Sorted as every renderer sorts: by file, then position.
	want := `::notice title=FW1701::no position [FW1701]
::warning file=a%2Cb%3Ac.fw,line=4,col=2,endLine=4,endColumn=9,title=FW1201::rule is redundant [FW1201]%0A100%25 covered,%0Aby line 3.
::error file=host.fw,line=7,col=6,endLine=7,endColumn=9,title=FW0102::unknown zone "lna" [FW0102]
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
