package lang

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fwcproject/fwc/diag"
)

// includeDiags loads root (with extra include roots) and returns the
// diagnostics rendered as text with the loaded sources, the way fwc check
// prints them.
func includeDiags(t *testing.T, root string, roots ...string) (diag.Diagnostics, string) {
	t.Helper()
	l, ds := LoadWith([]string{root}, LoadOptions{IncludeRoots: roots})
	var b bytes.Buffer
	if err := diag.RenderText(&b, ds, func(name string) []byte { return l.Sources[name] }, diag.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	return ds, b.String()
}

func wantCode(t *testing.T, ds diag.Diagnostics, text, code, msg string) {
	t.Helper()
	for _, d := range ds {
		if d.Code == code && strings.Contains(strings.ToLower(d.Summary+" "+d.Detail), strings.ToLower(msg)) {
			return
		}
	}
	t.Errorf("want %s %q, got:\n%s", code, msg, text)
}

// TestIncludeEscapes: an include may not leave the directory of the policy
// given, by "..", by an absolute path or through a symlink.
func TestIncludeEscapes(t *testing.T) {
	outside := writeFiles(t, map[string]string{"secret.fw": "zone secret { iface s0 }\n", "lib/x.fw": "zone x { iface x0 }\n"})
	for _, tc := range []struct {
		name, include string
		setup         func(tree string)
		msg           string
	}{
		{"dotdot", "../" + filepath.Base(outside) + "/secret.fw", nil, "is not below"},
		{"absolute", filepath.Join(outside, "secret.fw"), nil, "is not below"},
		{"symlink file", "link.fw", func(tree string) {
			must(t, os.Symlink(filepath.Join(outside, "secret.fw"), filepath.Join(tree, "link.fw")))
		}, "is a symlink to"},
		{"symlink dir", "lib/x.fw", func(tree string) {
			must(t, os.Symlink(filepath.Join(outside, "lib"), filepath.Join(tree, "lib")))
		}, "is a symlink to"},
		{"relative symlink", "up.fw", func(tree string) {
			must(t, os.Symlink("../"+filepath.Base(outside)+"/secret.fw", filepath.Join(tree, "up.fw")))
		}, "is a symlink to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Tree and outside are siblings in one parent, so that ".."
			// names outside.
			tree := filepath.Join(filepath.Dir(outside), "tree-"+strings.ReplaceAll(tc.name, " ", "-"))
			must(t, os.MkdirAll(tree, 0o755))
			t.Cleanup(func() { os.RemoveAll(tree) })
			if tc.setup != nil {
				tc.setup(tree)
			}
			must(t, os.WriteFile(filepath.Join(tree, "main.fw"), []byte("include \""+tc.include+"\"\n"), 0o644))
			ds, text := includeDiags(t, filepath.Join(tree, "main.fw"))
			wantCode(t, ds, text, "FW0014", tc.msg)
			if strings.Contains(text, "zone secret") {
				t.Errorf("the outside file was read:\n%s", text)
			}
			// --include-root widens the tree: the same include is read.
			ds, text = includeDiags(t, filepath.Join(tree, "main.fw"), outside)
			if ds.HasErrors() {
				t.Errorf("with --include-root %s:\n%s", outside, text)
			}
		})
	}
}

// TestIncludeInsideTree: includes below the tree, through subdirectories
// and symlinks that stay inside, still work; a directory given on the
// command line is the tree of every file below it.
func TestIncludeInsideTree(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"site/a/main.fw":       "include \"../common/zones.fw\"\ninclude \"alias.fw\"\n",
		"site/common/zones.fw": "zone lan { iface eth1 }\n",
		"site/common/svc.inc":  "define x = 1\n",
	})
	must(t, os.Symlink("../common/svc.inc", filepath.Join(dir, "site/a/alias.fw")))
	l, ds := Load([]string{filepath.Join(dir, "site")})
	if ds.HasErrors() {
		t.Fatalf("%v", ds)
	}
	if got, want := unitNames(l), "main.fw:main.fw,zones.fw,alias.fw"; got != want {
		t.Errorf("units = %q, want %q", got, want)
	}
	// Given alone, site/a/main.fw's tree is site/a: ../common leaves it.
	ds, text := includeDiags(t, filepath.Join(dir, "site/a/main.fw"))
	wantCode(t, ds, text, "FW0014", "is not below")
	wantCode(t, ds, text, "FW0014", "is a symlink to")
}

// TestIncludeNotRegular: devices and FIFOs are refused without reading
// them. /dev/zero would grow memory without end and a FIFO would block
// forever: both must come back at once with an error.
func TestIncludeNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.fw")
	must(t, syscall.Mkfifo(fifo, 0o600))
	for _, tc := range []struct{ include, msg string }{
		{"/dev/null", "a character device"},
		{"/dev/zero", "a character device"},
		{"pipe.fw", "a FIFO"},
	} {
		t.Run(filepath.Base(tc.include), func(t *testing.T) {
			main := filepath.Join(dir, "main.fw")
			must(t, os.WriteFile(main, []byte("include \""+tc.include+"\"\n"), 0o644))
			// The FIFO has no writer: opening it for reading blocks
			// until one comes. A guard opens the write end, so that a
			// loader that blocks is woken (and the test then fails on
			// its diagnostics instead of hanging); once Load has
			// returned, the test opens the read end itself to release
			// the guard if the loader never opened the FIFO.
			guard := make(chan struct{})
			if tc.include == "pipe.fw" {
				go func() {
					defer close(guard)
					if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
						_, _ = w.WriteString("zone from_fifo { iface f0 }\n")
						w.Close()
					}
				}()
			} else {
				close(guard)
			}
			ds, text := includeDiags(t, main, "/dev")
			if tc.include == "pipe.fw" {
				if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
					<-guard
					r.Close()
				}
			}
			<-guard
			wantCode(t, ds, text, "FW0012", "is not a regular file ("+tc.msg)
		})
	}
	// Given on the command line, a FIFO is refused the same way.
	go func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
	}()
	_, ds := Load([]string{fifo})
	if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		r.Close()
	}
	wantCode(t, ds, fmtDiags(ds), "FW0010", "is not a regular file (a FIFO")
}

// TestFileSizeCap: a file above MaxFileSize is refused before it is read,
// as an include and on the command line, and so is a stream that says
// nothing of its size.
func TestFileSizeCap(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.fw")
	fh, err := os.Create(big)
	must(t, err)
	must(t, fh.Truncate(MaxFileSize+1)) // sparse: no disk used
	fh.Close()
	must(t, os.WriteFile(filepath.Join(dir, "main.fw"), []byte("include \"big.fw\"\n"), 0o644))
	ds, text := includeDiags(t, filepath.Join(dir, "main.fw"))
	wantCode(t, ds, text, "FW0012", "larger than the 16 MiB")
	_, ds = Load([]string{big})
	wantCode(t, ds, fmtDiags(ds), "FW0010", "larger than the 16 MiB")

	// Exactly at the cap is allowed.
	if _, err := ReadAll(bytes.NewReader(make([]byte, MaxFileSize))); err != nil {
		t.Errorf("ReadAll of MaxFileSize bytes: %v", err)
	}
	if _, err := ReadAll(zeros{}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadAll of an endless stream: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestIncludeSecretNotShown: a file that is not a policy (no .fw name, does
// not parse) is never quoted in a diagnostic, whether it sits in the tree
// or is reached through --include-root.
func TestIncludeSecretNotShown(t *testing.T) {
	const secret = "root:$6$Zr8dSECRETHASHq1:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
	etc := writeFiles(t, map[string]string{"shadow": secret, "environ": "AWS_SECRET_ACCESS_KEY=SECRETHASH\x00PATH=/bin\x00"})
	for _, name := range []string{"shadow", "environ"} {
		t.Run(name, func(t *testing.T) {
			tree := writeFiles(t, map[string]string{"main.fw": "include \"" + filepath.Join(etc, name) + "\"\n", "local": secret})
			ds, text := includeDiags(t, filepath.Join(tree, "main.fw"), etc)
			wantCode(t, ds, text, "FW0015", "is not a policy file")
			for _, leak := range []string{"SECRET", "root", "daemon", "Zr8d", "AWS"} {
				if strings.Contains(text, leak) {
					t.Errorf("diagnostics show %q from %s:\n%s", leak, name, text)
				}
			}
		})
	}
	t.Run("in tree", func(t *testing.T) {
		tree := writeFiles(t, map[string]string{"main.fw": "include \"local\"\n", "local": secret})
		ds, text := includeDiags(t, filepath.Join(tree, "main.fw"))
		wantCode(t, ds, text, "FW0015", "line 1, column")
		if strings.Contains(text, "SECRET") || strings.Contains(text, "root") {
			t.Errorf("diagnostics show the file:\n%s", text)
		}
	})
	// A .fw file is a policy: its errors are shown in full.
	tree := writeFiles(t, map[string]string{"main.fw": "zone lan { bogus }\n"})
	_, text := includeDiags(t, filepath.Join(tree, "main.fw"))
	if !strings.Contains(text, "zone lan { bogus }") {
		t.Errorf("policy snippet missing:\n%s", text)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fmtDiags(ds diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Code + " " + d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

// TestSymlinkDisguise: a link named like a policy does not make its target
// one: an included "x.fw" that is /etc/shadow is not quoted, and a link
// found while walking a directory may not lead out of it.
func TestSymlinkDisguise(t *testing.T) {
	etc := writeFiles(t, map[string]string{"shadow": "root:$6$SECRETHASH:19000::::::\n"})
	tree := writeFiles(t, map[string]string{"main.fw": "include \"x.fw\"\n"})
	must(t, os.Symlink(filepath.Join(etc, "shadow"), filepath.Join(tree, "x.fw")))
	ds, text := includeDiags(t, filepath.Join(tree, "main.fw"), etc)
	wantCode(t, ds, text, "FW0015", "is not a policy file")
	if strings.Contains(text, "SECRET") || strings.Contains(text, "root") {
		t.Errorf("diagnostics show the file:\n%s", text)
	}

	dir := writeFiles(t, map[string]string{"a.fw": "zone lan { iface eth1 }\n"})
	must(t, os.Symlink(filepath.Join(etc, "shadow"), filepath.Join(dir, "evil.fw")))
	_, ds = Load([]string{dir})
	wantCode(t, ds, fmtDiags(ds), "FW0014", "is a symlink to")
	if strings.Contains(fmtDiags(ds), "SECRET") {
		t.Errorf("diagnostics show the file: %s", fmtDiags(ds))
	}
}
