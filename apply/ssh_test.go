package apply

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	sshV4 = SSHConnection{Client: netip.MustParseAddr("10.1.2.3"), ClientPort: 50000, Server: netip.MustParseAddr("10.0.0.1"), ServerPort: 22}
	sshV6 = SSHConnection{Client: netip.MustParseAddr("2001:db8::7"), ClientPort: 50000, Server: netip.MustParseAddr("2001:db8::1"), ServerPort: 22}
)

// TestSSHLockouts: lock-outs the check used to miss (issue #11 B5), and
// their siblings: replies dropped on the way out, and a notrack that makes
// the connection's packets untracked so that "established" no longer
// matches them, in either direction.
func TestSSHLockouts(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      Fate
		why       string
	}{
		{"output policy drop",
			"table filter {\n chain input policy drop { ct state established accept }\n chain output policy drop { udp dport 53 accept }\n}",
			Dropped, "replies to the client: the policy drop of chain filter output"},
		{"output drop rule",
			"table filter { chain output { tcp sport 22 drop } }",
			Dropped, "replies to the client: the rule at p.fw:1"},
		{"output accepts established",
			"table filter { chain output policy drop { ct state established accept } }",
			Accepted, ""},
		{"notrack on input",
			"table raw { chain prerouting { tcp dport 22 notrack } }\ntable filter { chain input policy drop { ct state established accept } }",
			Dropped, "packets from the client: the policy drop of chain filter input"},
		{"notrack on output",
			"table raw { chain output { tcp sport 22 notrack } }\ntable filter { chain output policy drop { ct state established accept } }",
			Dropped, "replies to the client: the policy drop of chain filter output"},
		{"notrack with untracked accepted",
			"table raw { chain prerouting { tcp dport 22 notrack } }\ntable filter { chain input policy drop { ct state established, untracked accept } }",
			Accepted, ""},
		{"notrack after conntrack does nothing",
			"table raw { chain prerouting priority -150 { tcp dport 22 notrack } }\ntable filter { chain input policy drop { ct state established accept } }",
			Accepted, ""},
		{"mark set earlier lets through",
			"table mangle { chain prerouting { tcp dport 22 mark set 0x10 } }\ntable filter { chain input policy drop { mark 0x10 accept } }",
			Accepted, ""},
		{"mark set earlier drops",
			"table mangle { chain prerouting { tcp dport 22 mark set 0x10 } }\ntable filter { chain input { mark 0x10/0xf0 drop } }",
			Dropped, "the rule at p.fw:2"},
		{"unmarked packet",
			"table filter { chain input policy drop { mark 0x10 accept } }",
			Dropped, "policy drop"},
		{"connmark restore of a set connmark",
			"table mangle { chain prerouting { connmark set 0x7\n connmark restore } }\ntable filter { chain input policy drop { mark 0x7 accept } }",
			Accepted, ""},
		{"unknown connmark",
			"table filter { chain input policy drop { ct mark 0x7 accept } }",
			Undecided, "policy drop"},
		{"untracked has no connmark",
			"table raw { chain prerouting { tcp dport 22 notrack } }\ntable filter { chain input policy drop { ct mark 0x7 accept } }",
			Dropped, "policy drop"},
		{"goto falls back to the caller's caller",
			"table filter {\n chain input policy drop { jump a\n accept }\n chain a { goto b\n drop }\n chain b { tcp dport 2222 drop } }",
			Accepted, ""},
		{"mark set in a user chain is seen after return",
			"table mangle { chain prerouting { jump m }\n chain m { mark set 0x3 } }\ntable filter { chain input { mark 0x3 drop } }",
			Dropped, "p.fw:3"},
	} {
		for _, conn := range []SSHConnection{sshV4, sshV6} {
			t.Run(tc.name+"/"+family(conn), func(t *testing.T) {
				fate, why := SSHCheck(nil, ruleset(t, tc.src+"\n"), conn)
				if fate != tc.want || !strings.Contains(why, tc.why) {
					t.Errorf("got %v (%s), want %v (%s)", fate, why, tc.want, tc.why)
				}
			})
		}
	}
}

func family(c SSHConnection) string {
	if c.Client.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// TestSSHEveryHook: a drop of the connection's packets is seen in every
// table and hook they traverse, for SSH over IPv4 and IPv6; the same
// chain without the drop lets them through.
func TestSSHEveryHook(t *testing.T) {
	for _, tc := range []struct{ table, hook, match, dir string }{
		{"raw", "prerouting", "tcp dport 22", "packets from the client"},
		{"mangle", "prerouting", "tcp dport 22", "packets from the client"},
		{"mangle", "input", "tcp dport 22", "packets from the client"},
		{"filter", "input", "tcp dport 22", "packets from the client"},
		{"security", "input", "tcp dport 22", "packets from the client"},
		{"raw", "output", "tcp sport 22", "replies to the client"},
		{"mangle", "output", "tcp sport 22", "replies to the client"},
		{"filter", "output", "tcp sport 22", "replies to the client"},
		{"security", "output", "tcp sport 22", "replies to the client"},
		{"mangle", "postrouting", "tcp sport 22", "replies to the client"},
	} {
		for _, conn := range []SSHConnection{sshV4, sshV6} {
			t.Run(tc.table+"_"+tc.hook+"/"+family(conn), func(t *testing.T) {
				src := "table " + tc.table + " { chain " + tc.hook + " { " + tc.match + " drop } }\n"
				fate, why := SSHCheck(nil, ruleset(t, src), conn)
				if fate != Dropped || !strings.Contains(why, tc.dir+": the rule at p.fw:1") {
					t.Errorf("drop: got %v (%s)", fate, why)
				}
				src = "table " + tc.table + " { chain " + tc.hook + " policy drop { " + tc.match + " accept } }\n"
				if fate, why := SSHCheck(nil, ruleset(t, src), conn); fate != Accepted {
					t.Errorf("accept: got %v (%s)", fate, why)
				}
				src = "table " + tc.table + " { chain " + tc.hook + " policy drop { tcp dport 2222 accept } }\n"
				if fate, why := SSHCheck(nil, ruleset(t, src), conn); fate != Dropped || !strings.Contains(why, tc.dir+": the policy drop of chain "+tc.table+" "+tc.hook) {
					t.Errorf("policy: got %v (%s)", fate, why)
				}
			})
		}
	}
}

func TestParseSSHConnectionFailsClosed(t *testing.T) {
	for _, bad := range []string{"1.2.3.4 0 5.6.7.8 22", "1.2.3.4 50000 5.6.7.8 0", "1.2.3.4 50000 2001:db8::1 22", "1.2.3.4 50000 5.6.7.8 22 extra", "  "} {
		if _, err := ParseSSHConnection(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if c, err := ParseSSHConnection("fe80::1%eth0 50000 fe80::2%eth0 22"); err != nil || c.Server != netip.MustParseAddr("fe80::2") {
		t.Errorf("link-local: %+v %v", c, err)
	}
}

// TestSSHProofIsExact: what the connection's unknown fields (its
// interface without a host, its ct mark and status) may be is one set of
// packets, split exactly by the rules; a concrete walk that forks on each
// undecided match loses that two forks are complements, and called these
// Undecided. Every value of the unknown field is decided here, so the
// fate is certain. The drop names a witness packet.
func TestSSHProofIsExact(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      Fate
		why       string
	}{
		{"every interface dropped",
			"table filter { chain input { iif eth0 drop\n iif != eth0 drop } }",
			Dropped, "packets from the client: the rule at p.fw:"},
		{"every connection mark accepted",
			"table filter { chain input policy drop { ct mark 0x7 accept\n ct mark != 0x7 accept } }",
			Accepted, ""},
		{"every ct status accepted",
			"table filter { chain output policy drop { ct status dnat accept\n ct status != dnat accept } }",
			Accepted, ""},
		{"witness",
			"table filter { chain input { iif eth* drop } }",
			Undecided, "the rule at p.fw:1 (for to self tcp saddr "},
	} {
		for _, conn := range []SSHConnection{sshV4, sshV6} {
			t.Run(tc.name+"/"+family(conn), func(t *testing.T) {
				fate, why := SSHCheck(nil, ruleset(t, tc.src+"\n"), conn)
				if fate != tc.want || !strings.Contains(why, tc.why) {
					t.Errorf("got %v (%s), want %v (%s)", fate, why, tc.want, tc.why)
				}
			})
		}
	}
}

// TestManagementAssertRefused: apply compiles with the passes that report
// errors, the assert pass among them, so a policy that cuts access an
// assert marks as management is refused before anything is applied, with
// the witness packet (here a reply, which the output policy drops).
func TestManagementAssertRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.fw")
	src := "zone admins { net 10.9.0.0/16 }\n" +
		"table filter {\n chain input policy drop { ct state established accept\n tcp dport 22 accept }\n chain output policy drop { udp dport 53 accept }\n}\n" +
		"assert management from admins to self tcp dport 22 accept\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ds, err := Compile([]string{path})
	if err != nil {
		t.Fatal(err)
	}
	if !ds.HasErrors() || c.Ruleset != nil {
		t.Fatalf("compiled: %v", ds)
	}
	var found bool
	for _, d := range ds {
		found = found || d.Code == "FW1090" && strings.Contains(d.Summary, "from self tcp saddr 198.51.100.1 sport 22 daddr 10.9.0.1 dport 40000 oif eth0 ct state established is dropped by the policy drop of chain filter output")
	}
	if !found {
		t.Errorf("no FW1090 with the reply as witness in %v", ds)
	}
}
