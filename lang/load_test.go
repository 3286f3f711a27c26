package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func unitNames(l *Loaded) string {
	var out []string
	for _, u := range l.Units {
		var fs []string
		for _, f := range u.Files {
			fs = append(fs, filepath.Base(f.Filename))
		}
		out = append(out, filepath.Base(u.Root)+":"+strings.Join(fs, ","))
	}
	return strings.Join(out, " ")
}

func TestLoadDirectory(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.fw":          "include \"lib/common.fw\"\ninclude \"lib/zones.fw\"\n",
		"lib/common.fw": "include \"zones.fw\"\ndefine x = 1\n",
		"lib/zones.fw":  "zone lan { iface eth1 }\n",
		"b.fw":          "zone wan { iface eth0 }\n",
		"notes.txt":     "not a policy",
	})
	l, ds := Load([]string{dir})
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	// lib/*.fw are included by a.fw, so they are not roots; files in a
	// unit are depth first in include order.
	if got, want := unitNames(l), "a.fw:a.fw,common.fw,zones.fw b.fw:b.fw"; got != want {
		t.Errorf("units = %q, want %q", got, want)
	}
	if len(l.Sources) != 4 {
		t.Errorf("sources = %d, want 4", len(l.Sources))
	}
	for name := range l.Sources {
		if name != filepath.Clean(name) {
			t.Errorf("source name %q not clean", name)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.fw":    "include \"b.fw\"\n",
		"b.fw":    "zone z { iface x }\ninclude \"c.fw\"\n",
		"c.fw":    "include \"a.fw\"\n",
		"m.fw":    "include \"missing.fw\"\n",
		"self.fw": "include \"self.fw\"\n",
	})
	l, ds := Load([]string{filepath.Join(dir, "a.fw"), filepath.Join(dir, "m.fw"), filepath.Join(dir, "self.fw"), filepath.Join(dir, "nope.fw")})
	var got []string
	for _, d := range ds.Sort() {
		got = append(got, filepath.Base(d.Subject.Filename)+":"+d.Subject.String()[len(d.Subject.Filename):]+" "+d.Code+" "+strings.ReplaceAll(d.Summary, dir+"/", ""))
		if d.Code == "FW0011" && strings.Contains(d.Summary, "c.fw") && len(d.Related) != 2 {
			t.Errorf("cycle a->b->c->a: related = %v, want the two other includes", d.Related)
		}
	}
	want := []string{
		"c.fw::1:1 FW0011 include cycle a.fw -> b.fw -> c.fw -> a.fw",
		"m.fw::1:9 FW0012 included file missing.fw not found",
		"nope.fw: FW0010 cannot read nope.fw",
		"self.fw::1:1 FW0011 include cycle self.fw -> self.fw",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := unitNames(l), "a.fw:a.fw,b.fw,c.fw m.fw:m.fw self.fw:self.fw"; got != want {
		t.Errorf("units = %q, want %q", got, want)
	}
}
