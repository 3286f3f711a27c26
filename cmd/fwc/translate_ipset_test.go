package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestTranslateIPSetReload runs translate --help's recipe for real, twice:
// "ipset restore < build/ipsets && iptables-restore < build/rules.v4". The
// second run is a reload at boot or after an edit: the sets then exist and
// the rules reference them (so they cannot be destroyed), and an element
// taken out of the policy must leave the set.
func TestTranslateIPSetReload(t *testing.T) {
	testnetns.RequireTools(t, "ipset", "iptables-restore")
	ns := testnetns.New(t)
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "p.fw")
	write := func(elems string) {
		t.Helper()
		src := "set allowed : ipv4_addr {\n\telements { " + elems + " }\n}\n" +
			"set ports : port {\n\telements { 22, 443 }\n}\n" +
			"table filter {\n\tchain input policy drop {\n\t\tsaddr @allowed tcp dport @ports accept\n\t}\n}\n"
		if err := os.WriteFile(policyFile, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		if code := run([]string{"translate", "--to", "all", "--out-dir", filepath.Join(dir, "build"), policyFile}, nil, &out, &errb); code != 0 {
			t.Fatalf("translate: exit %d: %s", code, errb.String())
		}
	}
	load := func(what string) {
		t.Helper()
		for _, step := range []struct {
			file string
			cmd  []string
		}{{"ipsets", []string{"ipset", "restore"}}, {"rules.v4", []string{"iptables-restore"}}} {
			data, err := os.ReadFile(filepath.Join(dir, "build", step.file))
			if err != nil {
				t.Fatal(err)
			}
			if out, err := testnetns.Feed(ns, data, step.cmd...); err != nil {
				t.Fatalf("%s: %s < %s: %v\n%s\n%s", what, strings.Join(step.cmd, " "), step.file, err, out, data)
			}
		}
	}
	write("192.0.2.1, 192.0.2.2")
	load("first run")
	load("second run, nothing changed")
	write("192.0.2.1")
	load("after removing 192.0.2.2")
	list := testnetns.Run(t, ns, "ipset", "list", "allowed")
	if !strings.Contains(list, "\n192.0.2.1") || strings.Contains(list, "192.0.2.2") {
		t.Errorf("after the reload the set should hold 192.0.2.1 alone:\n%s", list)
	}
	if ports := testnetns.Run(t, ns, "ipset", "list", "ports"); !strings.Contains(ports, "\n22\n") || !strings.Contains(ports, "\n443") {
		t.Errorf("ports lost its elements:\n%s", ports)
	}
}
