package golden_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
)

// A packet test: the policy runs in a firewall namespace; peers are
// namespaces joined to it by a veth pair each, the firewall's end named as
// in the policy (eth0, eth1).
type packetCase struct {
	example string // path below the module root
	fwAddrs map[string][]string
	peers   []peer
	// fwServe lists what the firewall itself listens on.
	fwServe []string
	probes  []expect
	// pings are ICMP echo probes, sent one after the other: they share
	// rate limits, so their order matters.
	pings []expect
	// unmerged: the case also runs the nft ruleset with no rules merged
	// (nft.PrepareWith and the zero ir.MergeOptions), whose verdicts must
	// be the merged ruleset's; merged lists what the merged nft text must
	// hold, so that the comparison is not of two equal rulesets.
	unmerged bool
	merged   []string
}

// peer is a namespace behind the firewall's interface iface.
type peer struct {
	name   string // also the name its listener answers with
	iface  string // the firewall's end of the veth
	addrs  []string
	routes []string // "default via A" and the like, for ip route add
	serve  []string
}

// expect is a probe sent from a peer and the outcome the policy intends.
type expect struct {
	from string // peer name
	probe
	want string
	why  string
}

// sshFromOutside is what host.fw does with a new ssh connection from
// outside the management network: refused with a reset at weekends (UTC).
func sshFromOutside() string {
	switch time.Now().UTC().Weekday() {
	case time.Saturday, time.Sunday:
		return "refused"
	}
	return "open fw 203.0.113.7"
}

var packetCases = []packetCase{
	{
		example: "examples/host.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24", "2001:db8::1/64"}},
		fwServe: []string{"tcp:22", "tcp:80", "tcp:443", "tcp:8080", "udp:53"},
		peers: []peer{{
			name: "net", iface: "eth0",
			addrs: []string{"192.0.2.2/24", "203.0.113.7/32", "59.45.175.10/32", "59.45.175.20/32",
				"192.168.1.111/32", "192.168.1.50/32", "192.168.1.130/32", "2001:db8::7/64"},
			routes: []string{"default via 192.0.2.1"},
		}},
		probes: []expect{
			{"net", probe{"tcp", "203.0.113.7", "192.0.2.1", 80}, "open fw 203.0.113.7", "web is open"},
			{"net", probe{"tcp", "203.0.113.7", "192.0.2.1", 443}, "open fw 203.0.113.7", "web is open"},
			{"net", probe{"tcp", "203.0.113.7", "192.0.2.1", 8080}, "timeout", "other tcp ports are dropped"},
			{"net", probe{"udp", "203.0.113.7", "192.0.2.1", 53}, "timeout", "udp falls through to the drop"},
			{"net", probe{"tcp", "203.0.113.7", "192.0.2.1", 22}, sshFromOutside(), "ssh from outside, reset at weekends"},
			{"net", probe{"tcp", "59.45.175.10", "192.0.2.1", 80}, "open fw 59.45.175.10", "the allowed address before its network"},
			{"net", probe{"tcp", "59.45.175.10", "192.0.2.1", 22}, "timeout", "only web for the allowed address"},
			{"net", probe{"tcp", "59.45.175.20", "192.0.2.1", 80}, "timeout", "the blocked network"},
			{"net", probe{"tcp", "192.168.1.130", "192.0.2.1", 80}, "timeout", "the guest range"},
			{"net", probe{"tcp", "192.168.1.111", "192.0.2.1", 22}, "open fw 192.168.1.111", "an admin workstation"},
			{"net", probe{"tcp", "192.168.1.50", "192.0.2.1", 22}, "open fw 192.168.1.50", "the management network"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 80}, "open fw 2001:db8::7", "web over IPv6 (needs neighbour discovery)"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 8080}, "timeout", "other tcp ports over IPv6"},
		},
		pings: []expect{
			{"net", probe{"icmp", "203.0.113.7", "192.0.2.1", 0}, "reply", "one echo a second"},
			{"net", probe{"icmp", "192.168.1.50", "192.0.2.1", 0}, "reply", "management pings"},
			{"net", probe{"icmp", "2001:db8::7", "2001:db8::1", 0}, "reply", "IPv6 echo"},
		},
	},
	{
		example: "examples/gateway.fw",
		fwAddrs: map[string][]string{"eth0": {"198.51.100.1/24"}, "eth1": {"192.168.1.1/24"}},
		fwServe: []string{"tcp:22", "udp:53", "udp:1194"},
		peers: []peer{
			{name: "wan", iface: "eth0", addrs: []string{"198.51.100.10/24"},
				routes: []string{"default via 198.51.100.1"}, serve: []string{"tcp:9000"}},
			{name: "lan", iface: "eth1", addrs: []string{"192.168.1.200/24"},
				routes: []string{"default via 192.168.1.1"}, serve: []string{"tcp:8080", "tcp:22"}},
		},
		probes: []expect{
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 80}, "open lan 198.51.100.10", "the port forward to 192.168.1.200:8080"},
			{"wan", probe{"tcp", "198.51.100.10", "192.168.1.200", 8080}, "timeout", "no forwarding into the LAN without the port forward"},
			{"wan", probe{"tcp", "198.51.100.10", "192.168.1.200", 22}, "timeout", "no forwarding into the LAN"},
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 22}, "timeout", "no ssh to the gateway from outside"},
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 8022}, "timeout", "redirected to 22, which the wan may not reach"},
			{"wan", probe{"udp", "198.51.100.10", "198.51.100.1", 1194}, "open fw 198.51.100.10", "OpenVPN"},
			{"wan", probe{"udp", "198.51.100.10", "198.51.100.1", 53}, "timeout", "no DNS for the internet"},
			{"lan", probe{"tcp", "192.168.1.200", "198.51.100.10", 9000}, "open wan 1.2.3.4", "LAN to WAN, SNAT to 1.2.3.4"},
			{"lan", probe{"tcp", "192.168.1.200", "192.168.1.1", 22}, "open fw 192.168.1.200", "ssh from the LAN"},
			{"lan", probe{"tcp", "192.168.1.200", "192.168.1.1", 8022}, "open fw 192.168.1.200", "8022 redirected to the gateway's ssh"},
			{"lan", probe{"udp", "192.168.1.200", "192.168.1.1", 53}, "open fw 192.168.1.200", "DNS from the LAN"},
		},
		pings: []expect{
			{"wan", probe{"icmp", "198.51.100.10", "198.51.100.1", 0}, "reply", "ping, rate limited"},
			{"wan", probe{"icmp", "198.51.100.10", "192.168.1.200", 0}, "timeout", "no forwarded pings into the LAN"},
		},
	},
	{
		example: "examples/sets.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24"}, "eth1": {"10.0.0.1/24"}},
		fwServe: []string{"tcp:22", "tcp:80", "tcp:873", "tcp:1234", "tcp:8443"},
		peers: []peer{
			{name: "net", iface: "eth0", addrs: []string{"192.0.2.2/24", "203.0.113.5/32", "198.51.100.200/32", "192.0.2.44/24"},
				routes: []string{"default via 192.0.2.1"}},
			{name: "mgmt", iface: "eth1", addrs: []string{"10.0.0.5/24", "10.0.0.6/24", "10.0.0.9/24", "10.0.0.20/24"}},
		},
		probes: []expect{
			{"net", probe{"tcp", "203.0.113.5", "192.0.2.1", 1234}, "open fw 203.0.113.5", "whitelisted network"},
			{"net", probe{"tcp", "192.0.2.44", "192.0.2.1", 1234}, "open fw 192.0.2.44", "a contractor"},
			{"net", probe{"tcp", "198.51.100.200", "192.0.2.1", 1234}, "unreachable", "not whitelisted: icmp-host-prohibited"},
			{"net", probe{"tcp", "203.0.113.5", "192.0.2.1", 22}, "timeout", "management ports only on the management interfaces"},
			{"net", probe{"tcp", "203.0.113.5", "192.0.2.1", 80}, "open fw 203.0.113.5", "web"},
			{"mgmt", probe{"tcp", "10.0.0.20", "10.0.0.1", 22}, "open fw 10.0.0.20", "a management port on eth1"},
			{"mgmt", probe{"tcp", "10.0.0.20", "10.0.0.1", 8443}, "open fw 10.0.0.20", "a management port on eth1"},
			{"mgmt", probe{"tcp", "10.0.0.5", "10.0.0.1", 873}, "open fw 10.0.0.5", "backup client and its port"},
			{"mgmt", probe{"tcp", "10.0.0.6", "10.0.0.1", 873}, "open fw 10.0.0.6", "backup client and its port"},
			{"mgmt", probe{"tcp", "10.0.0.9", "10.0.0.1", 873}, "timeout", "10.0.0.9 may only reach 22"},
			{"mgmt", probe{"tcp", "10.0.0.20", "10.0.0.1", 1234}, "unreachable", "not whitelisted"},
		},
		pings: []expect{
			{"net", probe{"icmp", "203.0.113.5", "192.0.2.1", 0}, "reply", "ping"},
		},
	},
	{
		example: "internal/golden/testdata/packets/negated-family.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24", "2001:db8::1/64"}},
		fwServe: []string{"tcp:22", "tcp:23"},
		peers: []peer{{
			name: "net", iface: "eth0",
			addrs: []string{"192.0.2.2/24", "2001:db8::7/64"},
		}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 22}, "refused", "a negated IPv4 address: IPv4 ssh is rejected"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 22}, "open fw 2001:db8::7", "a negated IPv4 address leaves IPv6 alone"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 23}, "refused", "a negated IPv6 address: IPv6 telnet is rejected"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 23}, "open fw 192.0.2.2", "a negated IPv6 address leaves IPv4 alone"},
		},
	},
	{
		example: "internal/golden/testdata/packets/addrtype.fw",
		fwAddrs: map[string][]string{"eth0": {"198.51.100.1/24"}, "eth1": {"192.168.1.1/24"}},
		fwServe: []string{"tcp:23", "tcp:24", "tcp:25"},
		peers: []peer{
			{name: "wan", iface: "eth0", addrs: []string{"198.51.100.10/24"},
				routes: []string{"default via 198.51.100.1"}},
			{name: "lan", iface: "eth1", addrs: []string{"192.168.1.200/24"},
				routes: []string{"default via 192.168.1.1"}, serve: []string{"tcp:22", "tcp:25", "tcp:8080"}},
		},
		probes: []expect{
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 25}, "timeout", "addrtype dst local before routing: the firewall's address"},
			{"wan", probe{"tcp", "198.51.100.10", "192.168.1.200", 25}, "open lan 198.51.100.10", "the same rule passes a forwarded packet"},
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 23}, "open fw 198.51.100.10", "input: dst is always local, != local never holds"},
			{"wan", probe{"tcp", "198.51.100.10", "198.51.100.1", 24}, "refused", "input: dst local holds"},
			{"wan", probe{"tcp", "198.51.100.10", "192.168.1.200", 22}, "refused", "forward: dst unicast holds"},
			{"wan", probe{"tcp", "198.51.100.10", "192.168.1.200", 8080}, "open lan 198.51.100.10", "forward: dst local never holds"},
		},
	},
	{
		example: "internal/golden/testdata/packets/pkttype.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24"}},
		fwServe: []string{"tcp:23", "tcp:24", "tcp:25"},
		peers:   []peer{{name: "net", iface: "eth0", addrs: []string{"192.0.2.2/24"}}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 23}, "refused", "a unicast packet is pkttype unicast"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 24}, "open fw 192.0.2.2", "and neither broadcast nor multicast"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 25}, "open fw 192.0.2.2", "so != unicast does not hold"},
		},
	},
	{
		example: "internal/golden/testdata/packets/length.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24"}},
		fwServe: []string{"tcp:23", "tcp:24", "tcp:25"},
		peers:   []peer{{name: "net", iface: "eth0", addrs: []string{"192.0.2.2/24"}}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 23}, "refused", "a SYN is 41 to 100 bytes long"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 24}, "open fw 192.0.2.2", "and not 200 or more"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 25}, "refused", "so not 0-40 either"},
		},
	},
	{
		example: "internal/golden/testdata/packets/ttl.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24", "2001:db8::1/64"}},
		fwServe: []string{"tcp:23", "tcp:24", "tcp:25"},
		peers:   []peer{{name: "net", iface: "eth0", addrs: []string{"192.0.2.2/24", "2001:db8::7/64"}}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 23}, "refused", "ttl 64 from a neighbour"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 24}, "open fw 192.0.2.2", "not below 64"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 25}, "open fw 192.0.2.2", "inside 60-70, so != 60-70 does not hold"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 23}, "refused", "hop limit 64 from a neighbour"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 24}, "open fw 2001:db8::7", "not above 64"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 25}, "open fw 2001:db8::7", "ttl rules leave IPv6 alone"},
		},
	},
	{
		example: "internal/golden/testdata/packets/ct-direction.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24"}},
		fwServe: []string{"tcp:23", "tcp:24", "tcp:25"},
		peers:   []peer{{name: "net", iface: "eth0", addrs: []string{"192.0.2.2/24"}}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 23}, "refused", "a SYN goes the original way"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 24}, "open fw 192.0.2.2", "not the reply way"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 25}, "open fw 192.0.2.2", "so != original does not hold"},
		},
	},
	{
		example: "internal/golden/testdata/packets/dscp.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24", "2001:db8::1/64"}},
		fwServe: []string{"tcp:23", "tcp:24", "tcp:25"},
		peers:   []peer{{name: "net", iface: "eth0", addrs: []string{"192.0.2.2/24", "2001:db8::7/64"}}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 23}, "refused", "DSCP 0 is cs0"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 24}, "open fw 192.0.2.2", "not ef or af41"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 25}, "open fw 192.0.2.2", "0 is in 0-7"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 23}, "refused", "IPv6: DSCP 0 is cs0"},
			{"net", probe{"tcp", "2001:db8::7", "2001:db8::1", 24}, "open fw 2001:db8::7", "IPv6: not ef or af41"},
		},
	},
	{
		example: "internal/golden/testdata/packets/negated-iface.fw",
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24"}},
		fwServe: []string{"tcp:22", "tcp:23", "tcp:24", "tcp:80"},
		peers: []peer{{
			name: "net", iface: "eth0",
			addrs: []string{"192.0.2.2/24"},
		}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 8080}, "open fw 192.0.2.2", "dnat to port 80 from an interface not excluded"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 8022}, "open fw 192.0.2.2", "redirect to 22 from an interface not excluded"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 23}, "refused", "reset from an interface not excluded"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 24}, "open fw 192.0.2.2", "eth0 is excluded: no reset"},
		},
	},
	{
		example:  "internal/golden/testdata/packets/lookup.fw",
		unmerged: true,
		merged: []string{"ip saddr . tcp dport vmap", "ip saddr . iifname @fwc_lookup_1", "ip saddr . tcp dport @fwc_lookup_2",
			"hash:net,iface", "hash:ip,port"},
		fwAddrs: map[string][]string{"eth0": {"192.0.2.1/24"}},
		fwServe: []string{"tcp:22", "tcp:80", "tcp:443", "tcp:8080"},
		peers: []peer{{
			name: "net", iface: "eth0",
			addrs: []string{"192.0.2.2/24", "192.0.2.10/32", "192.0.2.11/32", "192.0.2.12/32", "192.0.2.17/32",
				"192.0.2.21/32", "192.0.2.25/32", "192.0.2.30/32", "192.0.2.31/32",
				"192.0.2.40/32", "192.0.2.41/32", "192.0.2.42/32", "192.0.2.43/32"},
		}},
		probes: []expect{
			{"net", probe{"tcp", "192.0.2.17", "192.0.2.1", 22}, "open fw 192.0.2.17", "map: a prefix . port tuple, accept"},
			{"net", probe{"tcp", "192.0.2.21", "192.0.2.1", 22}, "refused", "map: a prefix . port tuple, jump to the refusing chain"},
			{"net", probe{"tcp", "192.0.2.25", "192.0.2.1", 80}, "open fw 192.0.2.25", "map: the third tuple"},
			{"net", probe{"tcp", "192.0.2.17", "192.0.2.1", 80}, "refused", "map: a prefix with another rule's port"},
			{"net", probe{"tcp", "192.0.2.25", "192.0.2.1", 22}, "refused", "map: a port with another rule's prefix"},
			{"net", probe{"tcp", "192.0.2.31", "192.0.2.1", 8080}, "open fw 192.0.2.31", "address . interface: eth0"},
			{"net", probe{"tcp", "192.0.2.30", "192.0.2.1", 8080}, "refused", "address . interface: the tuple names eth9"},
			{"net", probe{"tcp", "192.0.2.10", "192.0.2.1", 22}, "open fw 192.0.2.10", "address . port"},
			{"net", probe{"tcp", "192.0.2.11", "192.0.2.1", 80}, "open fw 192.0.2.11", "address . port"},
			{"net", probe{"tcp", "192.0.2.12", "192.0.2.1", 443}, "open fw 192.0.2.12", "address . port"},
			{"net", probe{"tcp", "192.0.2.10", "192.0.2.1", 80}, "refused", "address . port: another rule's port"},
			{"net", probe{"tcp", "192.0.2.12", "192.0.2.1", 22}, "refused", "address . port: another rule's port"},
			{"net", probe{"tcp", "192.0.2.2", "192.0.2.1", 22}, "refused", "no tuple"},
			{"net", probe{"tcp", "192.0.2.40", "192.0.2.1", 22}, "open fw 192.0.2.40", "address . port, before the rule passed over"},
			{"net", probe{"tcp", "192.0.2.41", "192.0.2.1", 443}, "open fw 192.0.2.41", "address . port, after the rule passed over, disjoint from it"},
			{"net", probe{"tcp", "192.0.2.43", "192.0.2.1", 8080}, "open fw 192.0.2.43", "address . port, after the rule passed over, disjoint from it"},
			{"net", probe{"tcp", "192.0.2.42", "192.0.2.1", 80}, "refused", "the rule passed over comes first for a rule it meets"},
			{"net", probe{"tcp", "192.0.2.41", "192.0.2.1", 80}, "refused", "the rule passed over"},
		},
	},
}

// TestSameVerdicts loads the iptables (with ipset) and the nft translation
// of each packet case into twin sets of namespaces, sends the same probes
// through both, and checks that each probe has the same outcome in both
// and the outcome the policy intends.
func TestSameVerdicts(t *testing.T) {
	requireTools(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	moduleRoot(t)
	for _, pc := range packetCases {
		t.Run(filepath.Base(pc.example), func(t *testing.T) {
			tr := translate(t, pc.example)
			for _, s := range []string{"want.iptables", "want.ip6tables", "want.ipset", "want.nft"} {
				if _, ok := tr.out[s]; !ok {
					t.Fatalf("no %s output:\n%s", s, tr.diag)
				}
			}
			all := append(slices.Clone(pc.probes), pc.pings...)
			results := map[string][]string{}
			loaders := []string{"iptables", "nft"}
			var unmerged []byte
			if pc.unmerged {
				unmerged = unmergedNFT(t, pc.example)
				loaders = append(loaders, "nft-unmerged")
				for _, s := range pc.merged {
					if !strings.Contains(string(tr.out["want.nft"]), s) && !strings.Contains(string(tr.out["want.ipset"]), s) {
						t.Fatalf("the merged output lacks %q", s)
					}
					if strings.Contains(string(unmerged), s) {
						t.Fatalf("the unmerged nft text holds %q", s)
					}
				}
			}
			// Two backends side by side, each in its own namespaces.
			var mu sync.Mutex
			t.Run("load", func(t *testing.T) {
				for _, backend := range loaders {
					t.Run(backend, func(t *testing.T) {
						t.Parallel()
						n := newNet(t, exe, pc)
						switch backend {
						case "iptables":
							n.load(t, tr.out["want.ipset"], "ipset", "restore")
							n.load(t, tr.out["want.iptables"], "iptables-restore")
							n.load(t, tr.out["want.ip6tables"], "ip6tables-restore")
						case "nft":
							n.load(t, tr.out["want.nft"], "nft", "-f", "-")
						case "nft-unmerged":
							n.load(t, unmerged, "nft", "-f", "-")
						}
						got := n.probe(t, pc.probes, false, 0)
						got = append(got, n.probe(t, pc.pings, true, 0)...)
						n.retrySlow(t, all, got)
						mu.Lock()
						results[backend] = got
						mu.Unlock()
					})
				}
			})
			ipt, nf := results["iptables"], results["nft"]
			if len(ipt) != len(all) || len(nf) != len(all) {
				t.Fatal("the probes did not run in both backends")
			}
			if pc.unmerged {
				um := results["nft-unmerged"]
				if len(um) != len(all) {
					t.Fatal("the probes did not run in the unmerged ruleset")
				}
				for i, e := range all {
					if um[i] != nf[i] {
						t.Errorf("%s %s: merged nft %q, unmerged nft %q", e.from, e.probe, nf[i], um[i])
					}
				}
			}
			for i, e := range all {
				switch {
				case ipt[i] != nf[i]:
					t.Errorf("%s %s: iptables %q, nft %q (want %q: %s)", e.from, e.probe, ipt[i], nf[i], e.want, e.why)
				case ipt[i] != e.want:
					t.Errorf("%s %s: both backends %q, want %q: %s", e.from, e.probe, ipt[i], e.want, e.why)
				}
			}
		})
	}
}

// unmergedNFT is the nft text of the policy at path with no rules merged.
func unmergedNFT(t *testing.T, path string) []byte {
	t.Helper()
	l, ds := lang.Load([]string{path})
	if l == nil || len(l.Units) != 1 {
		t.Fatalf("%s: want one policy, load gave %v", path, ds)
	}
	prog, ds := check.Check(l.Units[0].Files, check.Options{Backends: []string{"nft"}})
	if ds.HasErrors() {
		t.Fatalf("%s: %v", path, ds)
	}
	rs, ds := ir.Lower(prog)
	if ds.HasErrors() {
		t.Fatalf("%s: %v", path, ds)
	}
	text, ds := nft.PrepareWith(rs, ir.MergeOptions{}).Text()
	if ds.HasErrors() {
		t.Fatalf("%s: %v", path, ds)
	}
	return text
}

// testNet is one firewall namespace and its peers.
type testNet struct {
	exe   string
	fw    string
	peers map[string]string // peer name -> namespace
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNet builds the namespaces of pc, with its listeners running. The
// veth pairs are made inside the firewall namespace with the peer end
// moved straight into the peer's: nothing is created in the namespace the
// test runs in.
func newNet(t *testing.T, exe string, pc packetCase) *testNet {
	n := &testNet{exe: exe, fw: testnetns.New(t), peers: map[string]string{}}
	ipCmd(t, "-n", n.fw, "link", "set", "lo", "up")
	for _, p := range pc.peers {
		ns := testnetns.New(t)
		n.peers[p.name] = ns
		ipCmd(t, "-n", n.fw, "link", "add", p.iface, "type", "veth", "peer", "name", "veth0", "netns", ns)
		ipCmd(t, "-n", n.fw, "link", "set", p.iface, "up")
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
		ipCmd(t, "-n", ns, "link", "set", "veth0", "up")
		for _, a := range p.addrs {
			args := []string{"-n", ns, "addr", "add", a, "dev", "veth0"}
			if strings.Contains(a, ":") {
				args = append(args, "nodad")
			}
			ipCmd(t, args...)
		}
		for _, r := range p.routes {
			ipCmd(t, append([]string{"-n", ns, "route", "add"}, strings.Fields(r)...)...)
		}
		for _, a := range pc.fwAddrs[p.iface] {
			args := []string{"-n", n.fw, "addr", "add", a, "dev", p.iface}
			if strings.Contains(a, ":") {
				args = append(args, "nodad")
			}
			ipCmd(t, args...)
		}
		if len(p.serve) > 0 {
			n.serve(t, ns, p.name, p.serve)
		}
	}
	// The firewall routes the peers' extra /32 addresses back to them.
	for _, p := range pc.peers {
		for _, a := range p.addrs {
			if strings.HasSuffix(a, "/32") {
				via := strings.Split(p.addrs[0], "/")[0]
				ipCmd(t, "-n", n.fw, "route", "add", a, "via", via, "dev", p.iface)
			}
		}
	}
	n.helper(t, n.fw, nil, "write", "/proc/sys/net/ipv4/ip_forward", "1")
	n.serve(t, n.fw, "fw", pc.fwServe)
	return n
}

// helper runs the probe helper in namespace ns and returns its output.
func (n *testNet) helper(t *testing.T, ns string, stdin []byte, mode string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, n.exe}, args...)...)
	cmd.Env = append(os.Environ(), envProbe+"="+mode)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe helper %s in %s: %v\n%s", mode, ns, err, stderr.Bytes())
	}
	return out
}

// serve starts a listener in ns answering as name, stopped when the test
// ends (before the namespace goes).
func (n *testNet) serve(t *testing.T, ns, name string, ports []string) {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, n.exe, name}, ports...)...)
	cmd.Env = append(os.Environ(), envProbe+"=serve")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("listener %s in %s did not start: %v %q\n%s", name, ns, err, line, stderr.Bytes())
	}
}

// load feeds text to a loader (iptables-restore, nft -f -) in the firewall
// namespace.
func (n *testNet) load(t *testing.T, text []byte, argv ...string) {
	t.Helper()
	if out, err := testnetns.Feed(n.fw, text, argv...); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

// retrySlow probes again, one at a time and with a longer timeout, what
// timed out although an answer was expected, and records the new outcome.
func (n *testNet) retrySlow(t *testing.T, es []expect, got []string) {
	t.Helper()
	for try := 0; try < 2; try++ {
		var idx []int
		var again []expect
		for i, e := range es {
			if got[i] == "timeout" && e.want != "timeout" {
				idx = append(idx, i)
				again = append(again, e)
			}
		}
		if len(idx) == 0 {
			return
		}
		t.Logf("probing %d timed-out probes again with a longer timeout", len(idx))
		for k, o := range n.probe(t, again, true, 4*time.Second) {
			got[idx[k]] = o
		}
	}
}

// probe runs the probes of every peer at once and returns the outcomes in
// order. timeout, when not 0, replaces the dialer's probe timeout.
func (n *testNet) probe(t *testing.T, es []expect, seq bool, timeout time.Duration) []string {
	t.Helper()
	byPeer := map[string][]int{}
	for i, e := range es {
		byPeer[e.from] = append(byPeer[e.from], i)
	}
	out := make([]string, len(es))
	errs := make(chan error, len(byPeer))
	for name, idx := range byPeer {
		go func() {
			var ps []probe
			for _, i := range idx {
				ps = append(ps, es[i].probe)
			}
			in, _ := json.Marshal(ps)
			cmd := exec.Command("ip", "netns", "exec", n.peers[name], n.exe)
			mode := "dial"
			if seq {
				mode = "dial-seq"
			}
			cmd.Env = append(os.Environ(), envProbe+"="+mode)
			if timeout != 0 {
				cmd.Env = append(cmd.Env, envTimeout+"="+timeout.String())
			}
			cmd.Stdin = bytes.NewReader(in)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			raw, err := cmd.Output()
			var got []string
			if err == nil {
				err = json.Unmarshal(raw, &got)
			}
			if err == nil && len(got) != len(idx) {
				err = fmt.Errorf("%d outcomes for %d probes", len(got), len(idx))
			}
			if err != nil {
				errs <- fmt.Errorf("dialer in %s: %v\n%s", name, err, stderr.Bytes())
				return
			}
			for k, i := range idx {
				out[i] = got[k]
			}
			errs <- nil
		}()
	}
	for range byPeer {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	return out
}
