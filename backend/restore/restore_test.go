package restore_test

import (
	"flag"
	"github.com/fwcproject/fwc/internal/irfixture"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/restore"
	"github.com/fwcproject/fwc/internal/testnetns"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs (run with -update and read the diff):\n%s", name, got)
	}
}

type outputs struct{ v4, v6, sets []byte }

func translate(t *testing.T) outputs {
	rs := irfixture.Lower(t, "host.fw", irfixture.Host)
	var o outputs
	var d1, d2, d3 []string
	v4, ds4 := restore.IPv4(rs)
	v6, ds6 := restore.IPv6(rs)
	sets, dss := restore.IPSet(rs)
	for _, d := range ds4 {
		d1 = append(d1, d.Error())
	}
	for _, d := range ds6 {
		d2 = append(d2, d.Error())
	}
	for _, d := range dss {
		d3 = append(d3, d.Error())
	}
	if all := append(append(d1, d2...), d3...); len(all) > 0 {
		t.Fatalf("diagnostics:\n%s", strings.Join(all, "\n"))
	}
	o.v4, o.v6, o.sets = v4, v6, sets
	return o
}

func TestHostGolden(t *testing.T) {
	o := translate(t)
	golden(t, "host.iptables", o.v4)
	golden(t, "host.ip6tables", o.v6)
	golden(t, "host.ipset", o.sets)
	again := translate(t)
	if string(again.v4) != string(o.v4) || string(again.v6) != string(o.v6) || string(again.sets) != string(o.sets) {
		t.Error("output is not deterministic")
	}
}

// TestHostRestore loads the output for real with the tools in a namespace:
// --test only parses, and the kernel refuses rules it lets through.
func TestHostRestore(t *testing.T) {
	testnetns.RequireTools(t, "ipset", "iptables-restore", "ip6tables-restore")
	ns := testnetns.New(t)
	o := translate(t)
	if out, err := testnetns.Feed(ns, o.sets, "ipset", "restore"); err != nil {
		t.Fatalf("ipset restore: %v\n%s", err, out)
	}
	if out, err := testnetns.Feed(ns, o.v4, "iptables-restore"); err != nil {
		t.Errorf("iptables-restore: %v\n%s", err, out)
	}
	if out, err := testnetns.Feed(ns, o.v6, "ip6tables-restore"); err != nil {
		t.Errorf("ip6tables-restore: %v\n%s", err, out)
	}
}

// TestLookups: runs of rules that differ in several fields become one rule
// over an ipset of the matching type (golden files), and the outputs load
// for real: ipset restore, iptables-restore, ip6tables-restore.
func TestLookups(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "lookups.fw"))
	if err != nil {
		t.Fatal(err)
	}
	rs := irfixture.Lower(t, "lookups.fw", string(src))
	v4, ds := restore.IPv4(rs)
	v6, ds6 := restore.IPv6(rs)
	sets, dss := restore.IPSet(rs)
	if all := append(append(ds, ds6...), dss...); len(all) > 0 {
		t.Fatalf("diagnostics: %v", all)
	}
	golden(t, "lookups.iptables", v4)
	golden(t, "lookups.ip6tables", v6)
	golden(t, "lookups.ipset", sets)
	for _, typ := range []string{"hash:ip,port", "hash:net,port", "hash:net,iface", "hash:ip,port,ip"} {
		if !strings.Contains(string(sets), " "+typ+" ") {
			t.Errorf("no %s set in:\n%s", typ, sets)
		}
	}
	if strings.Contains(string(sets), "hash:net,net") {
		t.Errorf("a hash:net,net lookup, which kernels may lack:\n%s", sets)
	}
	testnetns.RequireTools(t, "ipset", "iptables-restore", "ip6tables-restore")
	ns := testnetns.New(t)
	if out, err := testnetns.Feed(ns, sets, "ipset", "restore"); err != nil {
		t.Fatalf("ipset restore: %v\n%s", err, out)
	}
	if out, err := testnetns.Feed(ns, v4, "iptables-restore"); err != nil {
		t.Errorf("iptables-restore: %v\n%s", err, out)
	}
	if out, err := testnetns.Feed(ns, v6, "ip6tables-restore"); err != nil {
		t.Errorf("ip6tables-restore: %v\n%s", err, out)
	}
}
