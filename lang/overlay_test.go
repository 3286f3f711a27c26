package lang

import (
	"path/filepath"
	"strings"
	"testing"
)

// An overlay replaces a file on disk, reaches its includes (which may be
// overlaid too) and may name a file that does not exist yet: an editor's
// buffers, saved or not.
func TestLoadOverlay(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.fw":     "include \"zones.fw\"\nzone broken {\n",
		"zones.fw": "zone lan { iface eth1 }\n",
	})
	a, zones, fresh := filepath.Join(dir, "a.fw"), filepath.Join(dir, "zones.fw"), filepath.Join(dir, "new.fw")
	over := map[string][]byte{
		a:     []byte("include \"zones.fw\"\ninclude \"new.fw\"\n"),
		zones: []byte("zone wan { iface eth0 }\n"),
		fresh: []byte("zone dmz { iface eth2 }\n"),
	}
	l, ds := LoadWith([]string{a}, LoadOptions{Overlay: over})
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	if got, want := unitNames(l), "a.fw:a.fw,zones.fw,new.fw"; got != want {
		t.Fatalf("units = %q, want %q", got, want)
	}
	for name, src := range over {
		var got string
		for n, s := range l.Sources {
			if filepath.Base(n) == filepath.Base(name) {
				got = string(s)
			}
		}
		if got != string(src) {
			t.Errorf("source of %s = %q, want the overlay %q", filepath.Base(name), got, src)
		}
	}

	// A file given that exists only in the overlay.
	l, ds = LoadWith([]string{fresh}, LoadOptions{Overlay: over})
	if len(ds) != 0 || unitNames(l) != "new.fw:new.fw" {
		t.Fatalf("overlay-only file: units %q, diagnostics %v", unitNames(l), ds)
	}

	// An overlaid include still has to stay in the tree.
	out := filepath.Join(filepath.Dir(dir), "outside.fw")
	over[a] = []byte("include \"../outside.fw\"\n")
	over[out] = []byte("zone x { iface eth9 }\n")
	_, ds = LoadWith([]string{a}, LoadOptions{Overlay: over})
	if len(ds) != 1 || ds[0].Code != "FW0014" || !strings.Contains(ds[0].Summary, "outside.fw") {
		t.Fatalf("include out of the tree through the overlay: %v", ds)
	}
}
