package convert

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/ipset"
	"github.com/fwcproject/fwc/importer/iptables"
	"github.com/fwcproject/fwc/lang"
)

// conv4 converts an IPv4 filter table holding lines, without origins.
func convText(t testing.TB, v4, v6, sets string) (string, diag.Diagnostics) {
	t.Helper()
	var in Input
	for i, src := range []string{v4, v6} {
		if src == "" {
			continue
		}
		name := []string{"rules.v4", "rules.v6"}[i]
		f, ds := iptables.ReadBytes([]byte(src), name, iptables.Options{})
		if ds.HasErrors() {
			t.Fatalf("read: %v", ds)
		}
		in.Rulesets = append(in.Rulesets, Ruleset{File: f, Src: []byte(src), Family: Family(i)})
	}
	if sets != "" {
		f, ds := ipset.ReadBytes([]byte(sets), "sets", ipset.Options{})
		if ds.HasErrors() {
			t.Fatalf("read: %v", ds)
		}
		in.Sets = append(in.Sets, f)
	}
	out, ds := Convert(in, Options{NoOrigin: true})
	return string(out), ds
}

// checks parses and checks src and returns its errors.
func checks(t testing.TB, src string) diag.Diagnostics {
	t.Helper()
	f, ds := lang.ParseFile("import.fw", []byte(src))
	if ds.HasErrors() {
		return ds
	}
	_, cds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	var errs diag.Diagnostics
	for _, d := range cds {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		}
	}
	return errs
}

func filter(rules ...string) string {
	return "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:web - [0:0]\n" +
		strings.Join(rules, "\n") + "\nCOMMIT\n"
}

// TestRules pins the conversion of each construct: the fwc rule an
// iptables rule becomes, which must check, or the diagnostic and its column.
func TestRules(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"-A INPUT -i lo -j ACCEPT", "family ipv4 iif lo accept"},
		{"-A INPUT ! -i eth+ -j DROP", "family ipv4 iif != eth* drop"},
		{"-A INPUT -i eth0.100 -j DROP", "family ipv4 iif eth0.100 drop"},
		{"-A INPUT -i eth0:1 -j DROP", "FW3201 1:13 interface name \"eth0:1\""},
		{"-A INPUT -s 10.0.0.0/255.0.0.0 -d 192.0.2.1/32 -j DROP", "family ipv4 saddr 10.0.0.0/8 daddr 192.0.2.1 drop"},
		{"-A INPUT -s 10.1.2.3/8 -j DROP", "family ipv4 saddr 10.0.0.0/8 drop"},
		{"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "family ipv4 tcp dport 22 accept"},
		{"-A INPUT -p tcp --dport ssh -j ACCEPT", "family ipv4 tcp dport 22 accept"},
		{"-A INPUT -p udp -m udp ! --sport 1024:65535 -j DROP", "family ipv4 udp sport != 1024-65535 drop"},
		{"-A INPUT -p tcp -m multiport --dports 80,443,8000:8080 -j web", "family ipv4 tcp dport 80, 443, 8000-8080 jump web"},
		{"-A INPUT -p udp -m udp -j ACCEPT", "family ipv4 proto udp accept"},
		{"-A INPUT ! -p tcp -j DROP", "family ipv4 proto != tcp drop"},
		{"-A INPUT -p tcp --syn -j DROP", "family ipv4 tcp syn drop"},
		{"-A INPUT -p tcp ! --syn -m state --state NEW -j DROP", "family ipv4 tcp flags != syn / fin|syn|rst|ack ct state new drop"},
		{"-A INPUT -p tcp --tcp-flags ALL FIN,PSH,URG -j DROP", "family ipv4 tcp flags fin|psh|urg / all drop"},
		{"-A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 1/sec --limit-burst 4 -j ACCEPT", "family ipv4 icmp type echo-request limit 1/second burst 4 accept"},
		{"-A INPUT -p icmp --icmp-type port-unreachable -j ACCEPT", "family ipv4 icmp type 3/3 accept"},
		{"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "family ipv4 ct state related, established accept"},
		{"-A INPUT -m conntrack --ctstate DNAT -j ACCEPT", "family ipv4 ct status dnat accept"},
		{"-A INPUT -m conntrack ! --ctstate RELATED,DNAT -j DROP", "family ipv4 ct state != related ct status != dnat drop"},
		{"-A INPUT -m mark --mark 0x1/0xff -j ACCEPT", "family ipv4 mark 0x1/0xff accept"},
		{"-A INPUT -m connmark ! --mark 0x2 -j ACCEPT", "family ipv4 ct mark != 0x2 accept"},
		{"-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j DROP", "family ipv4 saddr 10.0.0.1-10.0.0.9 drop"},
		{"-A INPUT -m statistic --mode random --probability 0.25 -j DROP", "family ipv4 probability 0.25 drop"},
		{"-A INPUT -p tcp -m tcp --dport 80 -m connlimit --connlimit-above 50 --connlimit-mask 32 --connlimit-saddr -j REJECT --reject-with tcp-reset", "family ipv4 tcp dport 80 connlimit over 50 mask 32 reject with tcp-reset"},
		{"-A INPUT -m comment --comment \"ssh \\\"in\\\"\" -p tcp --dport 22 -j ACCEPT", "# ssh \"in\"\n\t\tfamily ipv4 tcp dport 22 accept"},
		{"-A INPUT -j LOG --log-prefix \"in: \" --log-level 7 --log-tcp-options", "family ipv4 log prefix \"in: \" level 7 flags tcp-options"},
		{"-A INPUT -j REJECT --reject-with icmp-host-prohibited", "family ipv4 reject with icmp-host-prohibited"},
		{"-A INPUT -g web", "family ipv4 goto web"},
		{"-A INPUT -s 192.0.2.1", "family ipv4 saddr 192.0.2.1 counter"},
		{"-A web -j RETURN", "family ipv4 return"},
		{"-A INPUT -p tcp --dport 80 -m time --timestart 09:00 --timestop 19:00 --weekdays Sat,Sun -j REJECT", "family ipv4 tcp dport 80 day sat, sun hour \"09:00\"-\"19:00\" reject"},
		{"-A INPUT -m time --datestart 2017-12-24 --datestop 2017-12-27 -j DROP", "family ipv4 date \"2017-12-24\"-\"2017-12-27\" drop"},
		{"-A INPUT -p tcp --dport 22 -m hashlimit --hashlimit-above 4/min --hashlimit-burst 4 --hashlimit-mode srcip --hashlimit-name ssh -j DROP", "family ipv4 tcp dport 22 meter ssh per saddr over 4/minute burst 4 drop"},
		{"-A INPUT -m string --string \"OOXX\" --algo bm -j DROP", "family ipv4 string \"OOXX\" algo bm drop"},
		// What fwc cannot express: the code and the column of the word.
		{"-A INPUT -m time --timestart 22:00 --timestop 06:00 -j DROP", "FW3201 1:13 -m time --timestart 22:00"},
		{"-A INPUT -m time --timestart 09:00 --timestop 17:00 --kerneltz -j DROP", "FW3201 1:53 --kerneltz of -m time"},
		{"-A INPUT -m hashlimit --hashlimit-upto 4/min --hashlimit-name x -j ACCEPT", "FW3201 1:23 --hashlimit-upto of -m hashlimit"},
		{"-A INPUT -m string --hex-string \"|00|\" --algo bm -j DROP", "FW3201 1:20 --hex-string of -m string"},
		{"-A INPUT -m u32 --u32 \"0>>22&0x3C@12>>26&0x3F=0\" -j DROP", "FW3201 1:13 -m u32 has no fwc equivalent"},
		{"-A INPUT -p tcp -m tcp --tcp-option 8 -j DROP", "FW3201 1:24 --tcp-option of -m tcp has no fwc equivalent"},
		{"-A INPUT -p tcp --dport 22 -j TCPMSS --clamp-mss-to-pmtu", "FW3201 1:31 -j TCPMSS has no fwc equivalent"},
		{"-A INPUT -m conntrack --ctstate NEW,DNAT -j ACCEPT", "FW3201 1:33 states \"NEW,DNAT\" mix"},
		{"-A INPUT -s example.com -j DROP", "FW3201 1:13 address \"example.com\""},
		{"-A INPUT -f -j DROP", "FW3201 1:10 -f (fragments)"},
		{"-A INPUT -m set --match-set nosuch src -j DROP", "FW3204 1:29 set \"nosuch\""},
		{"-A INPUT -m mark --mark 0x1 -j MARK --xor-mark 0x1", "FW3201 1:37 --xor-mark"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			src := filter(tc.in)
			out, ds := convText(t, src, "", "")
			if code, rest, ok := strings.Cut(tc.want, " "); ok && strings.HasPrefix(code, "FW") {
				pos, msg, _ := strings.Cut(rest, " ")
				if len(ds) != 1 || ds[0].Code != code || !strings.Contains(ds[0].Summary, msg) {
					t.Fatalf("diagnostics %v, want one %s %q", ds, code, msg)
				}
				// The rule is line 6 of the input.
				if got := fmt.Sprintf("%d:%d", ds[0].Subject.Start.Line-5, ds[0].Subject.Start.Column); got != pos {
					t.Errorf("at %s, want line 6 column %s", ds[0].Subject, strings.TrimPrefix(pos, "1:"))
				}
				if !strings.Contains(out, "# not imported (rules.v4:6): "+tc.in) {
					t.Errorf("the original line is not kept as a comment:\n%s", out)
				}
				return
			}
			if len(ds) > 0 {
				t.Fatalf("diagnostics: %v\n%s", ds, out)
			}
			if !strings.Contains(out, "\t\t"+tc.want+"\n") {
				t.Fatalf("want %q in\n%s", tc.want, out)
			}
			if errs := checks(t, out); len(errs) > 0 {
				t.Fatalf("the output does not check: %v\n%s", errs, out)
			}
		})
	}
}

// TestFold: rules.v4 and rules.v6 whose chains correspond rule for rule
// give one dual-stack rule for each identical pair; the other pairs, and
// chains that do not correspond, keep one rule per family; different chain
// policies become accept and a drop for the family that had drop.
func TestFold(t *testing.T) {
	v4 := "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" +
		"-A INPUT -i lo -j ACCEPT\n" +
		"-A INPUT -p icmp -j ACCEPT\n" +
		"-A INPUT -p tcp --dport 22 -j ACCEPT\n" +
		"-A FORWARD -j DROP\n" +
		"COMMIT\n"
	v6 := "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" +
		"-A INPUT -i lo -j ACCEPT\n" +
		"-A INPUT -p ipv6-icmp -j ACCEPT\n" +
		"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n" +
		"-A FORWARD -s fd00::/8 -j ACCEPT\n" +
		"-A FORWARD -j DROP\n" +
		"COMMIT\n"
	out, ds := convText(t, v4, v6, "")
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	want := `table filter {
	chain input policy drop {
		iif lo accept
		family ipv4 proto icmp accept
		family ipv6 proto icmpv6 accept
		tcp dport 22 accept
	}
	chain forward policy accept {
		family ipv4 drop
		family ipv6 saddr fd00::/8 accept
		family ipv6 drop
		family ipv4 drop
	}
	chain output policy accept {
	}
}
`
	if !strings.Contains(out, want) {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if errs := checks(t, out); len(errs) > 0 {
		t.Fatalf("the output does not check: %v\n%s", errs, out)
	}
}

// TestSets: ipset sets of addresses, networks and ports become typed sets,
// and -m set matches them; the other types are reported at the type word
// and the rules that match them are not imported.
func TestSets(t *testing.T) {
	sets := "create allow hash:net family inet hashsize 1024 maxelem 65536 timeout 300\n" +
		"add allow 10.0.0.0/8 timeout 100\nadd allow 192.0.2.1\n" +
		"create ports bitmap:port range 0-65535\nadd ports 22\nadd ports 8443\n" +
		"create pairs hash:ip,port family inet\nadd pairs 10.0.0.1,tcp:22\n"
	v4 := filter("-A INPUT -m set ! --match-set allow src -j DROP",
		"-A INPUT -p tcp -m set --match-set ports dst -j ACCEPT",
		"-A INPUT -m set --match-set pairs src,dst -j ACCEPT")
	out, ds := convText(t, v4, "", sets)
	for _, want := range []string{
		"set allow : ipv4_net {\n\tsize 65536\n\ttimeout 300s\n\telements { 10.0.0.0/8 timeout 100s, 192.0.2.1 }\n}",
		"set ports : port {\n\telements { 22, 8443 }\n}",
		"# not imported: set pairs hash:ip,port",
		"\t\tfamily ipv4 saddr != @allow drop\n",
		"\t\tfamily ipv4 tcp dport @ports accept\n",
		"\t\t# not imported (rules.v4:8): -A INPUT -m set --match-set pairs src,dst -j ACCEPT\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
	var codes []string
	for _, d := range ds {
		codes = append(codes, fmt.Sprintf("%s %s", d.Code, d.Subject))
	}
	if want := []string{"FW3202 sets:7:14", "FW3201 rules.v4:8:29"}; strings.Join(codes, ",") != strings.Join(want, ",") {
		t.Errorf("diagnostics %v, want %v", codes, want)
	}
	if errs := checks(t, out); len(errs) > 0 {
		t.Fatalf("the output does not check: %v\n%s", errs, out)
	}
}

// TestOrigin: each rule ends with the file and line it came from, a folded
// rule with both.
func TestOrigin(t *testing.T) {
	v4 := filter("-A INPUT -p tcp --dport 22 -j ACCEPT")
	f4, _ := iptables.ReadBytes([]byte(v4), "/etc/iptables/rules.v4", iptables.Options{})
	f6, _ := iptables.ReadBytes([]byte(v4), "rules.v6", iptables.Options{})
	out, ds := Convert(Input{Rulesets: []Ruleset{{File: f4, Family: IPv4}, {File: f6, Family: IPv6}}}, Options{})
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	if want := "\t\ttcp dport 22 accept # rules.v4:6, rules.v6:6\n"; !strings.Contains(string(out), want) {
		t.Fatalf("want %q in\n%s", want, out)
	}
}

// TestKeywordNames: chains and sets named like keywords of the language
// (ipset-all-tables.v4 in the corpus has a set "drop") are imported: after
// jump, goto and @ a name cannot be read as a keyword.
func TestKeywordNames(t *testing.T) {
	v4 := filter(":accept - [0:0]", ":log - [0:0]",
		"-A INPUT -m set --match-set drop src -j accept",
		"-A INPUT -g log", "-A accept -j ACCEPT", "-A log -j LOG")
	out, ds := convText(t, v4, "", "create drop hash:net family inet\nadd drop 10.0.0.0/8\n")
	if len(ds) > 0 {
		t.Fatalf("diagnostics: %v\n%s", ds, out)
	}
	for _, want := range []string{"set drop : ipv4_net", "family ipv4 saddr @drop jump accept", "family ipv4 goto log", "chain accept {", "chain log {"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
	if errs := checks(t, out); len(errs) > 0 {
		t.Fatalf("the output does not check: %v\n%s", errs, out)
	}
}
