package lang

import (
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
)

// parseOne parses src and returns the dump of its only declaration.
func parseOne(t *testing.T, src string) string {
	t.Helper()
	f, ds := ParseFile("t.fw", []byte(src))
	if len(ds) > 0 {
		t.Fatalf("%q: unexpected diagnostics: %v", src, ds)
	}
	if len(f.Decls) != 1 {
		t.Fatalf("%q: %d declarations, want 1", src, len(f.Decls))
	}
	return dump(f.Decls[0])
}

// rule wraps matches and actions in a chain and returns the dump of the rule.
func parseRule(t *testing.T, src string) string {
	t.Helper()
	f, ds := ParseFile("t.fw", []byte("table filter { chain input { "+src+" } }"))
	if len(ds) > 0 {
		t.Fatalf("%q: unexpected diagnostics: %v", src, ds)
	}
	r := f.Decls[0].(*ast.Table).Chains[0].Rules
	if len(r) != 1 {
		t.Fatalf("%q: %d rules, want 1", src, len(r))
	}
	return strings.TrimPrefix(dump(r[0]), "(Rule ")
}

func TestParseDecls(t *testing.T) {
	tests := []struct{ src, want string }{
		{`include "common.fw"`, `(Include Path=string:"common.fw")`},
		{`define admins = 10.0.0.1, 10.0.0.2`, `(Define Name=admins Values=[IPv4 address:"10.0.0.1" IPv4 address:"10.0.0.2"])`},
		{`zone lan { iface eth1, eth2; net 192.168.1.0/24, fd00:1::/64 }`,
			`(Zone Name=lan Items=[(ZoneItem Key=iface Values=[name:"eth1" name:"eth2"]) (ZoneItem Key=net Values=[IPv4 address:"192.168.1.0/24" IPv6 address:"fd00:1::/64"])])`},
		{"zone lan {\n\n  iface eth1\n\n  iface eth*,\n    wg0.100\n\n}",
			`(Zone Name=lan Items=[(ZoneItem Key=iface Values=[name:"eth1"]) (ZoneItem Key=iface Values=[name:"eth*" name:"wg0.100"])])`},
		{`zone empty {}`, `(Zone Name=empty)`},
		{`service web = tcp/{80, 443}`, `(Service Name=web Values=[(name:"tcp" / (List Elems=[number:"80" number:"443"]))])`},
		{`service ping = icmp/echo-request, icmpv6/echo-request`, `(Service Name=ping Values=[(name:"icmp" / name:"echo-request") (name:"icmpv6" / name:"echo-request")])`},
		{`service hi = tcp/1024-65535, $more`, `(Service Name=hi Values=[(name:"tcp" / (number:"1024" - number:"65535")) $more])`},
		{`set allow : ipv4_net { timeout 3d; elements { 10.0.0.0/8, 1.2.3.4 timeout 1h } }`,
			`(Set Name=allow Type=[ipv4_net] Timeout=duration:"3d" Elements=[(SetElem Value=IPv4 address:"10.0.0.0/8") (SetElem Value=IPv4 address:"1.2.3.4" Timeout=duration:"1h")] HasElements=true ItemOrder=[timeout elements])`},
		{`set svc : ipv4_addr . port { size 65535; elements { 10.0.0.1 . 80 } }`,
			`(Set Name=svc Type=[ipv4_addr port] Size=number:"65535" Elements=[(SetElem Value=(Concat Parts=[IPv4 address:"10.0.0.1" number:"80"]))] HasElements=true ItemOrder=[size elements])`},
		{`set svc : ipv4_addr.port`, `(Set Name=svc Type=[ipv4_addr port])`},
		{"set e : ifname { elements {\n} }", `(Set Name=e Type=[ifname] HasElements=true ItemOrder=[elements])`},
		{`policy lan -> wan accept`, `(Policy From=lan To=wan Actions=[(Verdict Kind=accept)])`},
		{`policy any -> self log prefix "in-drop: " drop`, `(Policy From=any To=self Actions=[(Log Prefix=string:"in-drop: ") (Verdict Kind=drop)])`},
		{`from wan to self tcp dport 22 ct state new accept`,
			`(Rule From=wan To=self Matches=[(PortMatch Proto=tcp Key=dport Values=[number:"22"]) (CtMatch Key=state Values=[name:"new"])] Actions=[(Verdict Kind=accept)])`},
		{"table filter {\n chain input policy drop priority -150 {\n  iif lo accept\n }\n chain IN_WEB { return }\n}",
			`(Table Name=filter Chains=[(Chain Name=input Policy=drop Priority=number:"-150" Rules=[(Rule Matches=[(IfaceMatch Key=iif Values=[name:"lo"])] Actions=[(Verdict Kind=accept)])]) (Chain Name=IN_WEB Rules=[(Rule Matches=[] Actions=[(Verdict Kind=return)])])])`},
		{`table nat { chain postrouting priority 100 {} }`, `(Table Name=nat Chains=[(Chain Name=postrouting Priority=number:"100")])`},
		{`route uplink_a { mark 0x1; table 10; priority 1000; default via 10.10.1.1 dev eth1 }`,
			`(Route Name=uplink_a Mark=number:"0x1" Table=number:"10" Priority=number:"1000" Routes=[(RouteEntry Dest=name:"default" Via=IPv4 address:"10.10.1.1" Dev=name:"eth1")] ItemOrder=[mark table priority route])`},
		{"route b {\n table 20\n mark 0x2/0xff\n 10.0.0.0/8 dev eth2\n fd00::/8 via fd00::1\n}",
			`(Route Name=b Mark=(number:"0x2" / number:"0xff") Table=number:"20" Routes=[(RouteEntry Dest=IPv4 address:"10.0.0.0/8" Dev=name:"eth2") (RouteEntry Dest=IPv6 address:"fd00::/8" Via=IPv6 address:"fd00::1")] ItemOrder=[table mark route route])`},
		{`balance web { address 10.109.146.68; service tcp/8080; endpoints 10.244.0.14:80, [fd00::1]:80; masquerade }`,
			`(Balance Name=web Address=IPv4 address:"10.109.146.68" Service=(name:"tcp" / number:"8080") Endpoints=[(IPv4 address:"10.244.0.14" : number:"80") ([IPv6 address:"fd00::1"] : number:"80")] Masquerade=true ItemOrder=[address service endpoints masquerade])`},
	}
	for _, tt := range tests {
		if got := parseOne(t, tt.src); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct{ src, want string }{
		{`1.2.3.4:1000-2000`, `(IPv4 address:"1.2.3.4" : (number:"1000" - number:"2000"))`},
		{`192.168.5.3-192.168.5.5`, `(IPv4 address:"192.168.5.3" - IPv4 address:"192.168.5.5")`},
		{`0x4000/0x4000`, `(number:"0x4000" / number:"0x4000")`},
		{`8/0`, `(number:"8" / number:"0")`},
		{`4/minute`, `(number:"4" / name:"minute")`},
		{`[fd00::1]:80`, `([IPv6 address:"fd00::1"] : number:"80")`},
		{`::1`, `IPv6 address:"::1"`},
		{`::ffff:1.2.3.4`, `IPv6 address:"::ffff:1.2.3.4"`},
		{`10.0.0.1 . 80`, `(Concat Parts=[IPv4 address:"10.0.0.1" number:"80"])`},
		{`@blocklist`, `@blocklist`},
		{`$admins`, `$admins`},
		{`0.33`, `number:"0.33"`},
		{`30s`, `duration:"30s"`},
		{`250ms`, `duration:"250ms"`},
		{`"a \"q\" \\ b"`, `string:"a \"q\" \\ b"`},
		{`"09:00"-"19:00"`, `(string:"09:00" - string:"19:00")`},
		{`a/b:c/d`, `(((name:"a" / name:"b") : name:"c") / name:"d")`},
		{"{ 1,\n 2 . 3,\n\n {4} }", `(List Elems=[number:"1" (Concat Parts=[number:"2" number:"3"]) (List Elems=[number:"4"])])`},
		{`{}`, `(List Elems=[])`},
	}
	for _, tt := range tests {
		got := parseOne(t, "define x = "+tt.src)
		want := "(Define Name=x Values=[" + tt.want + "])"
		if got != want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, want)
		}
	}
}

func TestParseMatches(t *testing.T) {
	tests := []struct{ src, want string }{
		{`saddr 192.168.1.111, 192.168.1.118 accept`, `(AddrMatch Key=saddr Values=[IPv4 address:"192.168.1.111" IPv4 address:"192.168.1.118"])`},
		{`daddr != 192.168.1.0/24 drop`, `(AddrMatch Key=daddr Neg=true Values=[IPv4 address:"192.168.1.0/24"])`},
		{`saddr @allow accept`, `(AddrMatch Key=saddr Values=[@allow])`},
		{`proto != icmp drop`, `(ProtoMatch Neg=true Values=[name:"icmp"])`},
		{`proto tcp, udp accept`, `(ProtoMatch Values=[name:"tcp" name:"udp"])`},
		{`tcp dport != 22, 80, 443 drop`, `(PortMatch Proto=tcp Key=dport Neg=true Values=[number:"22" number:"80" number:"443"])`},
		{`udp sport 1024-65535 accept`, `(PortMatch Proto=udp Key=sport Values=[(number:"1024" - number:"65535")])`},
		{`dport 53 accept`, `(PortMatch Key=dport Values=[number:"53"])`},
		{`sctp dport 9 accept`, `(PortMatch Proto=sctp Key=dport Values=[number:"9"])`},
		{`iif eth*, @ifs accept`, `(IfaceMatch Key=iif Values=[name:"eth*" @ifs])`},
		{`oif != eth0 drop`, `(IfaceMatch Key=oif Neg=true Values=[name:"eth0"])`},
		{`service ssh, web accept`, `(ServiceMatch Values=[name:"ssh" name:"web"])`},
		{`icmp type echo-request, 8/0 accept`, `(ICMPMatch Proto=icmp Values=[name:"echo-request" (number:"8" / number:"0")])`},
		{`icmpv6 type != nd-neighbor-solicit drop`, `(ICMPMatch Proto=icmpv6 Neg=true Values=[name:"nd-neighbor-solicit"])`},
		{`tcp flags fin|psh|urg / all drop`, `(TCPFlagsMatch Flags=[fin psh urg] Mask=[all])`},
		{`tcp flags != syn / fin|syn|rst|ack drop`, `(TCPFlagsMatch Neg=true Flags=[syn] Mask=[fin syn rst ack])`},
		{`tcp flags rst drop`, `(TCPFlagsMatch Flags=[rst])`},
		{`tcp syn drop`, `(TCPFlagsMatch Flags=[syn] Mask=[fin syn rst ack] Short=true)`},
		{`ct state established,related accept`, `(CtMatch Key=state Values=[name:"established" name:"related"])`},
		{`ct status != dnat accept`, `(CtMatch Key=status Neg=true Values=[name:"dnat"])`},
		{`mark 0x1 accept`, `(MarkMatch Value=number:"0x1")`},
		{`mark != 0x4000/0x4000 accept`, `(MarkMatch Neg=true Value=(number:"0x4000" / number:"0x4000"))`},
		{`ct mark 5 accept`, `(MarkMatch Ct=true Value=number:"5")`},
		{`mark route uplink_a accept`, `(MarkMatch Route=uplink_a)`},
		{`family ipv6 accept`, `(FamilyMatch Family=ipv6)`},
		{`limit 1/second burst 1 accept`, `(LimitMatch Rate=(number:"1" / name:"second") Burst=number:"1")`},
		{`limit over 10/minute drop`, `(LimitMatch Over=true Rate=(number:"10" / name:"minute"))`},
		{`meter ssh per saddr over 4/minute burst 4 drop`, `(MeterMatch Name=ssh Per=saddr Over=true Rate=(number:"4" / name:"minute") Burst=number:"4")`},
		{`meter m per daddr mask 24 10/second accept`, `(MeterMatch Name=m Per=daddr Mask=number:"24" Rate=(number:"10" / name:"second"))`},
		{`connlimit over 2 mask 24 reject`, `(ConnlimitMatch Over=true Count=number:"2" Mask=number:"24")`},
		{`connlimit 10 accept`, `(ConnlimitMatch Count=number:"10")`},
		{`hour "09:00"-"19:00" reject`, `(TimeMatch Key=hour Values=[(string:"09:00" - string:"19:00")])`},
		{`day sat, sun drop`, `(TimeMatch Key=day Values=[name:"sat" name:"sun"])`},
		{`date != "2017-12-24"-"2017-12-27" drop`, `(TimeMatch Key=date Neg=true Values=[(string:"2017-12-24" - string:"2017-12-27")])`},
		{`probability 0.25 accept`, `(ProbabilityMatch Value=number:"0.25")`},
		{`string "OOXX" algo bm reject`, `(StringMatch Text=string:"OOXX" Algo=bm)`},
		{`string != "x" drop`, `(StringMatch Neg=true Text=string:"x")`},
		{`saddr . tcp dport @svc accept`, `(ConcatMatch Keys=[saddr dport] Proto=tcp Set=@svc)`},
		{`iif . daddr . dport != @x drop`, `(ConcatMatch Keys=[iif daddr dport] Neg=true Set=@x)`},
		{`mark . saddr @m accept`, `(ConcatMatch Keys=[mark saddr] Set=@m)`},
	}
	for _, tt := range tests {
		got := parseRule(t, tt.src)
		if !strings.HasPrefix(got, "Matches=["+tt.want+"] ") {
			t.Errorf("%q:\n got %s\nwant Matches=[%s] ...", tt.src, got, tt.want)
		}
	}
}

func TestParseActions(t *testing.T) {
	tests := []struct{ src, want string }{
		{`accept`, `(Verdict Kind=accept)`},
		{`drop`, `(Verdict Kind=drop)`},
		{`return`, `(Verdict Kind=return)`},
		{`reject`, `(Verdict Kind=reject)`},
		{`reject with icmp-host-prohibited`, `(Verdict Kind=reject With=icmp-host-prohibited)`},
		{`jump IN_WEB`, `(Jump Target=IN_WEB)`},
		{`goto other`, `(Jump Goto=true Target=other)`},
		{`log`, `(Log)`},
		{`log prefix "[plantegg] " level 7 flags tcp-sequence, tcp-options,ip-options`,
			`(Log Prefix=string:"[plantegg] " Level=number:"7" Flags=[tcp-sequence tcp-options ip-options])`},
		{`log level warn prefix "x"`, `(Log Prefix=string:"x" Level=name:"warn")`},
		{`counter`, `(Counter)`},
		{`mark set 0x4000/0x4000`, `(MarkSet Value=(number:"0x4000" / number:"0x4000"))`},
		{`connmark set 1`, `(MarkSet Ct=true Value=number:"1")`},
		{`ct mark set 1`, `(MarkSet Ct=true Value=number:"1")`},
		{`connmark save`, `(Connmark Op=save)`},
		{`connmark restore mask 0xff`, `(Connmark Op=restore Mask=number:"0xff")`},
		{`route uplink_a`, `(RouteAction Name=uplink_a)`},
		{`snat to 1.2.3.4`, `(NAT Kind=snat To=IPv4 address:"1.2.3.4")`},
		{`snat to 192.168.5.3-192.168.5.5 persistent`, `(NAT Kind=snat To=(IPv4 address:"192.168.5.3" - IPv4 address:"192.168.5.5") Flags=[persistent])`},
		{`dnat to 192.168.1.200:8080`, `(NAT Kind=dnat To=(IPv4 address:"192.168.1.200" : number:"8080"))`},
		{`dnat to [fd00::2]:80`, `(NAT Kind=dnat To=([IPv6 address:"fd00::2"] : number:"80"))`},
		{`masquerade`, `(NAT Kind=masquerade)`},
		{`masquerade random-fully`, `(NAT Kind=masquerade Flags=[random-fully])`},
		{`masquerade to :1024-65535 random persistent`, `(NAT Kind=masquerade To=(number:"1024" - number:"65535") Flags=[random persistent])`},
		{`redirect to 22`, `(NAT Kind=redirect To=number:"22")`},
		{`redirect`, `(NAT Kind=redirect)`},
		{`notrack`, `(Simple Kind=notrack)`},
		{`trace`, `(Simple Kind=trace)`},
		{`tos set 0x10`, `(HeaderSet Field=tos Value=number:"0x10")`},
		{`ttl set 64`, `(HeaderSet Field=ttl Value=number:"64")`},
	}
	for _, tt := range tests {
		got := parseRule(t, tt.src)
		if want := "Matches=[] Actions=[" + tt.want + "])"; got != want {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, got, want)
		}
	}
	// Several actions in one rule, and prefixes shared with matches.
	got := parseRule(t, `mark 1 ct mark 2 mark set 3 ct mark set 4 log prefix "x: " drop`)
	want := `Matches=[(MarkMatch Value=number:"1") (MarkMatch Ct=true Value=number:"2")] Actions=[(MarkSet Value=number:"3") (MarkSet Ct=true Value=number:"4") (Log Prefix=string:"x: ") (Verdict Kind=drop)])`
	if got != want {
		t.Errorf("mixed:\n got %s\nwant %s", got, want)
	}
}
