package apply

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// dockerRules is what docker and its user leave in iptables: chains of
// their own, jumped to from FORWARD, PREROUTING and OUTPUT, and
// FORWARD's policy set to DROP.
const dockerRules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-USER - [0:0]
-A INPUT -i docker0 -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-USER -s 203.0.113.9/32 -j DROP
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
`

// iptPolicy is a policy with rules in filter (INPUT with a drop policy,
// FORWARD, OUTPUT), a user chain, NAT, a dynamic set and a static one,
// for both families; port changes it.
func iptPolicy(port string) string {
	return `zone lan {
	iface eth1
	net 192.168.1.0/24, fd00:1::/64
}
set bans : ipv4_addr
set fixed : ipv4_addr { elements { 192.0.2.9 } }
set bans6 : ipv6_addr { timeout 1h }
table filter {
	chain input policy drop {
		iif lo accept
		ct state established,related accept
		saddr @bans drop
		saddr @fixed drop
		saddr @bans6 drop
		jump svc
	}
	chain svc {
		tcp dport 22, ` + port + ` accept
		icmp type echo-request accept
		icmpv6 type echo-request, nd-neighbor-solicit accept
	}
}
policy lan -> any accept
from any to self tcp dport 2222 dnat to 192.168.1.10
`
}

func compileIpt(t testing.TB, src string) *Want {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.fw")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ds, err := CompileIptables([]string{path}, compile.LoadOptions{})
	if err != nil || ds.HasErrors() {
		t.Fatalf("compile: %v %v", err, ds)
	}
	return c.Want()
}

func planIpt(t testing.TB, h *Host, v IptablesVariant, w *Want) *Plan {
	t.Helper()
	have, err := ReadIptables(h, v)
	if err != nil {
		t.Fatal(err)
	}
	p, ds, err := NewIptablesPlan(have, w)
	if err != nil || ds.HasErrors() {
		t.Fatalf("plan: %v %v", err, ds)
	}
	return p
}

func applyIpt(t testing.TB, h *Host, v IptablesVariant, w *Want) *Plan {
	t.Helper()
	p := planIpt(t, h, v, w)
	if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
		t.Fatalf("apply: %v: %v", out, err)
	}
	return p
}

// save lists both families' tables with variant v's iptables-save,
// without its comment lines (they carry the time).
func save(t testing.TB, ns string, v IptablesVariant) string {
	t.Helper()
	var b strings.Builder
	for _, fam := range []int{4, 6} {
		for l := range strings.Lines(testnetns.Run(t, ns, v.tool(fam, "save"))) {
			if !strings.HasPrefix(l, "#") {
				b.WriteString(l)
			}
		}
	}
	return b.String()
}

// foreign is a listing without fwc's lines (its chains, their rules and
// the jumps to them), and without the tables that hold nothing else: an
// empty table, which a first apply may create (ip6tables' nat, say),
// filters nothing.
func foreign(listing string) string {
	var b, table strings.Builder
	empty := true
	for l := range strings.Lines(listing) {
		switch {
		case strings.Contains(l, "fwc"):
			continue
		case strings.HasPrefix(l, "*"):
			table.Reset()
			empty = true
		case strings.HasPrefix(l, "COMMIT"):
			if !empty {
				b.WriteString(table.String())
				b.WriteString(l)
			}
			continue
		case strings.HasPrefix(l, ":") && strings.Contains(l, " ACCEPT ["):
		default:
			empty = false
		}
		table.WriteString(l)
	}
	return b.String()
}

// TestIptablesApply applies a policy with the iptables backend, under
// each variant of the tools, beside docker's chains: fwc's rules live in
// its own chains, jumped to first from the built-in chains; docker's
// chains, rules and chain policies are left byte for byte as they were,
// through an apply, a change, and a rollback to the state before each.
// Elements added at run time to a dynamic set are kept by an apply and
// put back by a rollback.
func TestIptablesApply(t *testing.T) {
	for _, v := range []IptablesVariant{"legacy", "nft"} {
		t.Run(string(v), func(t *testing.T) {
			testnetns.RequireTools(t, v.tool(4, "restore"), v.tool(6, "restore"), "ipset")
			ns := nsWithLinks(t)
			if out, err := testnetns.Feed(ns, []byte(dockerRules), v.tool(4, "restore")); err != nil {
				t.Fatalf("load docker's rules: %v\n%s", err, out)
			}
			before := foreign(save(t, ns, v))
			h := openHost(t, ns)
			dir := t.TempDir()

			// First apply, under --confirm, then rolled back: the host is
			// as it was, byte for byte.
			w1 := compileIpt(t, iptPolicy("80"))
			have, err := ReadIptables(h, v)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := Snapshot(dir, h, have, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			applyIpt(t, h, v, w1)
			after := save(t, ns, v)
			if got := foreign(after); got != before {
				t.Fatalf("docker's rules changed by the apply:\n%s\nwere:\n%s", got, before)
			}
			for _, want := range []string{
				"-A INPUT -m comment --comment fwc -j fwc-INPUT\n",
				":fwc-svc - [0:0]\n",
				"-A fwc-INPUT -m comment --comment \"fwc policy\" -j DROP\n",
				"-j DNAT --to-destination 192.168.1.10",
			} {
				if !strings.Contains(after, want) {
					t.Errorf("the applied rules lack %q:\n%s", want, after)
				}
			}
			// fwc's jump comes first in each built-in chain.
			if i := strings.Index(after, "\n-A FORWARD "); i < 0 || !strings.HasPrefix(after[i+1:], "-A FORWARD -m comment --comment fwc -j fwc-FORWARD\n") {
				t.Errorf("fwc's jump is not FORWARD's first rule:\n%s", after)
			}
			if p := planIpt(t, h, v, w1); !p.Empty() {
				t.Fatalf("plan after apply is not empty:\n%s", planText(p))
			}
			// The DNAT is IPv4's: ip6tables' nat gets no chain of fwc's.
			if s6 := testnetns.Run(t, ns, v.tool(6, "save")); strings.Contains(s6, "fwc-PREROUTING") {
				t.Errorf("an IPv6 nat chain without rules:\n%s", s6)
			}
			if err := Rollback(snap); err != nil {
				t.Fatal(err)
			}
			_ = Discard(dir, snap)
			if got := save(t, ns, v); foreign(got) != before || strings.Contains(got, "fwc") {
				t.Fatalf("after the rollback:\n%s\nbefore the apply:\n%s", got, before)
			}
			if out := testnetns.Run(t, ns, "ipset", "list", "-n"); out != "" {
				t.Fatalf("sets left after the rollback: %s", out)
			}

			// Applied again, with bans added at run time, then changed:
			// the bans are kept, shown as kept.
			applyIpt(t, h, v, w1)
			testnetns.Run(t, ns, "ipset", "add", "bans", "198.51.100.7")
			testnetns.Run(t, ns, "ipset", "add", "bans6", "2001:db8::7", "timeout", "600")
			testnetns.Run(t, ns, "ipset", "add", "fixed", "198.51.100.11")
			applied1 := save(t, ns, v)
			w2 := compileIpt(t, iptPolicy("443"))
			p := planIpt(t, h, v, w2)
			text := planText(p)
			for _, want := range []string{"= set bans: element 198.51.100.7", "= set bans6: element 2001:db8::7", "- set fixed: element 198.51.100.11", "--dports 22,443"} {
				if !strings.Contains(text, want) {
					t.Errorf("the plan lacks %q:\n%s", want, text)
				}
			}
			snap, err = Snapshot(dir, h, p.Have, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if out, err := Apply(h, p, Options{}); out != batch.Applied || err != nil {
				t.Fatalf("apply: %v: %v", out, err)
			}
			if got := foreign(save(t, ns, v)); got != before {
				t.Fatalf("docker's rules changed by the second apply:\n%s\nwere:\n%s", got, before)
			}
			sets := testnetns.Run(t, ns, "ipset", "save")
			if !strings.Contains(sets, "add bans 198.51.100.7") || !strings.Contains(sets, "add bans6 2001:db8::7") || strings.Contains(sets, "198.51.100.11") {
				t.Fatalf("after the second apply, the sets are:\n%s", sets)
			}
			if err := Rollback(snap); err != nil {
				t.Fatal(err)
			}
			_ = Discard(dir, snap)
			if got := save(t, ns, v); got != applied1 {
				t.Fatalf("after the second rollback:\n%s\nbefore the second apply:\n%s", got, applied1)
			}
			sets = testnetns.Run(t, ns, "ipset", "save")
			for _, want := range []string{"add bans 198.51.100.7", "add bans6 2001:db8::7", "add fixed 198.51.100.11"} {
				if !strings.Contains(sets, want) {
					t.Errorf("the rollback did not put back %q:\n%s", want, sets)
				}
			}
			if p := planIpt(t, h, v, w1); slices.ContainsFunc(p.Table, func(c Change) bool { return c.Op != '-' || !strings.HasPrefix(c.What, "set fixed") }) {
				t.Fatalf("after the rollback, the first policy's plan:\n%s", planText(p))
			}
		})
	}
}

// TestIptablesTraffic: the rules apply --backend iptables installs decide
// real packets. A TCP connection from a peer namespace to a listener is
// accepted by fwc's chain; once the peer is added to the dynamic set bans
// at run time (as fail2ban does), fwc's chain resets it; after a rollback
// to the state before the apply (no rules of fwc's), it is accepted
// again. A reset and an accepted connection are both answers, so nothing
// waits on a clock.
func TestIptablesTraffic(t *testing.T) {
	for _, v := range []IptablesVariant{"legacy", "nft"} {
		t.Run(string(v), func(t *testing.T) {
			testnetns.RequireTools(t, v.tool(4, "restore"), "ipset")
			ns, peer := nsWithLinks(t), testnetns.New(t)
			veth(t, ns, "eth1", "10.9.0.1/24", peer, "p0", "10.9.0.2/24")
			var ln net.Listener
			testnetns.Do(t, ns, func() {
				var err error
				if ln, err = net.Listen("tcp4", "10.9.0.1:8080"); err != nil {
					t.Fatal(err)
				}
			})
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			dial := func() error {
				var err error
				testnetns.Do(t, peer, func() {
					var c net.Conn
					if c, err = net.Dial("tcp4", "10.9.0.1:8080"); err == nil {
						c.Close()
					}
				})
				return err
			}
			h := openHost(t, ns)
			have, err := ReadIptables(h, v)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := Snapshot(t.TempDir(), h, have, time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			applyIpt(t, h, v, compileIpt(t, `set bans : ipv4_addr
table filter {
	chain input policy drop {
		ct state established, related accept
		saddr @bans reject with tcp-reset
		tcp dport 8080 accept
	}
}
`))
			if err := dial(); err != nil {
				t.Fatalf("a connection the policy accepts: %v", err)
			}
			testnetns.Run(t, ns, "ipset", "add", "bans", "10.9.0.2")
			if err := dial(); !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("a connection from a banned address: %v, want a reset", err)
			}
			if err := Rollback(snap); err != nil {
				t.Fatal(err)
			}
			_ = Discard(snap.Dir, snap)
			if err := dial(); err != nil {
				t.Fatalf("after the rollback: %v", err)
			}
		})
	}
}

// TestIptablesSharedNames: in fwc's part of iptables a user chain is
// named after ChainPrefix, shortened with a digest when that makes it
// longer than iptables takes (28 characters); a return from a base chain
// whose policy is drop drops (fwc's chain returns to the built-in chain,
// whose policy is the host's). Loaded for real.
func TestIptablesSharedNames(t *testing.T) {
	const v = IptablesVariant("nft")
	testnetns.RequireTools(t, v.tool(4, "restore"), "ipset")
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	applyIpt(t, h, v, compileIpt(t, `table filter {
	chain input policy drop {
		tcp dport 22 jump a_chain_name_of_thirty_chars
		tcp dport 23 jump a_chain_name_of_thirty_charz
		tcp dport 24 return
	}
	chain a_chain_name_of_thirty_chars {
		accept
	}
	chain a_chain_name_of_thirty_charz {
		drop
	}
}
`))
	s := save(t, ns, v)
	for _, want := range []string{
		":fwc-a_chain_name_of-", "-p tcp -m tcp --dport 24 -m comment --comment \"policy.fw:5\" -j DROP\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the rules lack %q:\n%s", want, s)
		}
	}
	var names []string
	for l := range strings.Lines(s) {
		if strings.HasPrefix(l, ":fwc-a_chain") {
			name, _, _ := strings.Cut(l[1:], " ")
			if len(name) > 28 {
				t.Errorf("chain %s is longer than 28 characters", name)
			}
			names = append(names, name)
		}
	}
	if len(names) != 4 || names[0] == names[1] { // two chains, in each family
		t.Errorf("the two long chains are not two chains: %v", names)
	}
}

// TestIptablesChangedMeanwhile: when fwc's chains change between the plan
// and the apply (someone inserted a rule into fwc-INPUT), nothing is
// applied; iptables holds what that someone left.
func TestIptablesChangedMeanwhile(t *testing.T) {
	const v = IptablesVariant("nft")
	testnetns.RequireTools(t, v.tool(4, "restore"), "ipset")
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	applyIpt(t, h, v, compileIpt(t, iptPolicy("80")))
	p := planIpt(t, h, v, compileIpt(t, iptPolicy("443")))
	testnetns.Run(t, ns, "iptables-nft", "-I", "fwc-INPUT", "-s", "192.0.2.77", "-j", "ACCEPT")
	before := save(t, ns, v)
	out, err := Apply(h, p, Options{})
	if out != batch.NotApplied || !errors.Is(err, ErrIptablesChanged) {
		t.Fatalf("apply after a change: %v, %v", out, err)
	}
	if got := save(t, ns, v); got != before {
		t.Fatalf("a refused apply changed iptables:\n%s\nwas:\n%s", got, before)
	}
}

// TestIptablesRoutingFails: a route to a device that does not exist
// fails after fwc's chains were installed. Without --boot the chains are
// taken back out (iptables is as before the apply); with --boot they stay
// and the routes are deferred.
func TestIptablesRoutingFails(t *testing.T) {
	const v = IptablesVariant("nft")
	testnetns.RequireTools(t, v.tool(4, "restore"), "ipset")
	ns := nsWithLinks(t)
	h := openHost(t, ns)
	before := save(t, ns, v)
	w := compileIpt(t, iptPolicy("80")+"route via_c { mark 0x3/0xff; table 30; default via 10.3.0.2 dev nowhere }\nfrom self to any udp dport 53 route via_c\n")
	out, err := Apply(h, planIpt(t, h, v, w), Options{})
	if out != batch.NotApplied || err == nil || !strings.Contains(err.Error(), "the previous iptables rules are back") {
		t.Fatalf("apply with a route to a missing device: %v, %v", out, err)
	}
	if got := save(t, ns, v); foreign(got) != foreign(before) || strings.Contains(got, "fwc") {
		t.Fatalf("the failed apply left:\n%s", got)
	}
	if sets := testnetns.Run(t, ns, "ipset", "list", "-n"); sets != "" {
		t.Fatalf("the failed apply left sets: %s", sets)
	}
	out, err = Apply(h, planIpt(t, h, v, w), Options{Boot: true})
	var rd *RoutesDeferred
	if out != batch.Applied || !errors.As(err, &rd) {
		t.Fatalf("apply --boot with a route to a missing device: %v, %v", out, err)
	}
	if got := save(t, ns, v); !strings.Contains(got, "-A INPUT -m comment --comment fwc -j fwc-INPUT") {
		t.Fatalf("apply --boot did not install fwc's chains:\n%s", got)
	}
}
