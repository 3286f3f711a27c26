package apply

import (
	"errors"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestBootDefersRoutes: at boot the devices and gateways of the policy's
// routes do not exist yet. An apply with Options.Boot installs the table
// anyway, leaves routing as it was, and says so (*RoutesDeferred); the
// plain apply that follows once the links are up installs the routes and
// leaves the table alone. Without Boot the same apply installs nothing.
func TestBootDefersRoutes(t *testing.T) {
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	w := compileSrc(t, oneRoute+"table filter { chain input { tcp dport 7 drop } }\n")
	routing := func() string {
		return testnetns.Run(t, ns, "ip", "-4", "rule", "show", "proto", "70") +
			testnetns.Run(t, ns, "ip", "-4", "route", "show", "table", "all", "proto", "70")
	}
	tableLoaded := func() bool {
		out, err := testnetns.Try(ns, "nft", "list", "table", "inet", "fwc")
		return err == nil && strings.Contains(out, "tcp dport 7 drop")
	}

	// Without Boot: the route fails, nothing stays.
	if out, err := Apply(h, plan(t, h, w), Options{}); out != batch.NotApplied || err == nil {
		t.Fatalf("apply without the route's device: %v, %v; want NotApplied and an error", out, err)
	}
	if tableLoaded() {
		t.Fatalf("a failed apply left the table")
	}

	out, err := Apply(h, plan(t, h, w), Options{Boot: true})
	var rd *RoutesDeferred
	if out != batch.Applied || !errors.As(err, &rd) {
		t.Fatalf("boot apply: %v, %v; want Applied and *RoutesDeferred", out, err)
	}
	if !strings.Contains(err.Error(), "up_a") {
		t.Errorf("the message does not name the missing device: %v", err)
	}
	if !tableLoaded() {
		t.Fatalf("boot apply did not install the table")
	}
	if r := routing(); strings.Contains(r, "proto 70") {
		t.Fatalf("boot apply left routing changes behind:\n%s", r)
	}

	// The network comes up; the next apply adds the routes only.
	testnetns.Run(t, ns, "ip", "link", "add", "up_a", "type", "veth", "peer", "name", "up_ap")
	testnetns.Run(t, ns, "ip", "link", "set", "up_ap", "up")
	testnetns.Run(t, ns, "ip", "link", "set", "up_a", "up")
	testnetns.Run(t, ns, "ip", "addr", "add", "10.1.0.1/24", "dev", "up_a")
	p := mustApply(t, h, w, Options{})
	if len(p.Table) != 0 {
		t.Errorf("the apply after boot changes the table: %v", p.Table)
	}
	if r := routing(); !strings.Contains(r, "default via 10.1.0.2 dev up_a table 10") {
		t.Errorf("routes not installed after the network came up:\n%s", r)
	}
	mustBeEmpty(t, h, w)
}
