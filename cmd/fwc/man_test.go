package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestManPages writes the manual pages and renders each with man(1), which
// must print no warning: fwc(1), a page per command, and fwc.fw(5) from the
// language reference.
func TestManPages(t *testing.T) {
	manCmd, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("FWC_REQUIRE_NETNS") == "1" || os.Getenv("CI") == "true" {
			t.Fatal("man is not installed (scripts/test.sh installs man-db)")
		}
		t.Skip("man is not installed")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"man", "--dir", dir, "--language", "../../docs/language.md"}, nil, &out, &errb); code != 0 {
		t.Fatalf("fwc man: exit %d: %s", code, errb.String())
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, want := range []string{"fwc.1", "fwc-check.1", "fwc-translate.1", "fwc-apply.1", "fwc.fw.5"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("no %s among %v", want, pages)
		}
	}
	for _, p := range pages {
		cmd := exec.Command(manCmd, "--warnings", "-E", "UTF-8", "-l", p)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man -l %s: %v\n%s", filepath.Base(p), err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "NAME") {
			t.Errorf("%s renders without a NAME section", filepath.Base(p))
		}
	}
	lang, _ := os.ReadFile(filepath.Join(dir, "fwc.fw.5"))
	// Every section of the reference is a section of the page, and every
	// subsection a subsection, in its order: the page is made from
	// docs/language.md, and this says that nothing of it was lost or
	// flattened on the way.
	md, _ := os.ReadFile("../../docs/language.md")
	var want, got []string
	for _, l := range strings.Split(string(md), "\n") {
		if h, ok := strings.CutPrefix(l, "## "); ok {
			want = append(want, "SH "+strings.ReplaceAll(h, "`", ""))
		}
		if h, ok := strings.CutPrefix(l, "### "); ok {
			want = append(want, "SS "+strings.ReplaceAll(h, "`", ""))
		}
	}
	for _, l := range strings.Split(string(lang), "\n") {
		level, h, ok := strings.Cut(strings.TrimPrefix(l, "."), " ")
		if !strings.HasPrefix(l, ".") || !ok || (level != "SH" && level != "SS") || h == "NAME" || h == "DESCRIPTION" || h == "SEE ALSO" {
			continue
		}
		h = strings.NewReplacer(`\-`, "-", `\fB`, "", `\fR`, "", `\fI`, "", `"`, "").Replace(h)
		got = append(got, level+" "+h)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fwc.fw.5's sections:\n%s\nare not docs/language.md's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, want := range []string{"fwc.fw \\- the fwc firewall policy language", "masquerade"} {
		if !bytes.Contains(lang, []byte(want)) {
			t.Errorf("fwc.fw.5 lacks %q", want)
		}
	}
}
