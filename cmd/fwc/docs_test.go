package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLanguageDocMatchRows: the rows of docs/language.md's match table say
// what iptables and nft text a construct stands for; for the rows named
// here, that text is what fwc translate writes, verbatim. (Other rows
// abbreviate: a NAME to fill in, or words around the code.)
func TestLanguageDocMatchRows(t *testing.T) {
	md, err := os.ReadFile("../../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, construct := range []string{
		"meter ssh per saddr over 4/minute burst 4",
		"limit 1/second burst 1",
		"ct state established, related",
	} {
		t.Run(construct, func(t *testing.T) {
			var row []string
			for _, l := range strings.Split(string(md), "\n") {
				if strings.HasPrefix(l, "| `"+construct+"` |") {
					row = strings.Split(l, " | ")
				}
			}
			if len(row) != 4 {
				t.Fatalf("no row for %q in the match table", construct)
			}
			ipt, nft := firstCode(row[2]), firstCode(strings.TrimSuffix(row[3], " |"))
			dir := t.TempDir()
			file := filepath.Join(dir, "p.fw")
			src := "table filter {\n\tchain input policy accept {\n\t\t" + construct + " drop\n\t}\n}\n"
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ to, want string }{{"iptables", ipt}, {"nft", nft}} {
				var out, errb bytes.Buffer
				if code := run([]string{"translate", "--to", c.to, file}, nil, &out, &errb); code != 0 {
					t.Fatalf("translate --to %s: exit %d: %s", c.to, code, errb.String())
				}
				if !strings.Contains(out.String(), c.want) {
					t.Errorf("the %s column says %q; translate --to %s writes:\n%s", c.to, c.want, c.to, out.String())
				}
			}
		})
	}
}

// firstCode is the first `code` of a table cell.
func firstCode(cell string) string {
	_, rest, _ := strings.Cut(cell, "`")
	code, _, _ := strings.Cut(rest, "`")
	return strings.ReplaceAll(code, `\|`, "|")
}

// TestDiagnosticExamples: the README's first policy, checked, prints what
// the README's check example and docs/language.md's diagnostics example
// show, so that neither drifts from the renderer.
func TestDiagnosticExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lang, err := os.ReadFile("../../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	policy := fenced(t, string(readme), "```fw\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "host.fw"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	var out, errb bytes.Buffer
	if code := run([]string{"check", "host.fw"}, nil, &out, &errb); code != exitFindings {
		t.Fatalf("fwc check host.fw: exit %d, want 1: %s", code, errb.String())
	}
	got := out.String() + errb.String()
	if want := strings.TrimPrefix(fenced(t, string(readme), "```console\n"), "$ fwc check host.fw\n"); got != want {
		t.Errorf("README's check example:\n%s\nfwc check prints:\n%s", want, got)
	}
	if want := fenced(t, string(lang), "`fwc check` prints each problem as\n\n```text\n"); !strings.HasPrefix(got, want) {
		t.Errorf("docs/language.md's diagnostics example:\n%s\nfwc check prints:\n%s", want, got)
	}
}

// fenced returns the text of the code block that starts right after the
// first occurrence of start (which ends with the opening fence line).
func fenced(t *testing.T, doc, start string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, start)
	if !ok {
		t.Fatalf("no %q in the document", start)
	}
	body, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatalf("the block after %q is not closed", start)
	}
	return body
}
