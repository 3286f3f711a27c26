package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/iptables"
)

// rule is one iptables rule converted.
type rule struct {
	in  *iptables.Rule
	src *Ruleset
	// text is the fwc rule, matches then actions, without a family.
	text string
	// familyBound is true when the text means one family only (an
	// address, an icmp type, a set of one family): such a rule is never
	// folded with the other family's.
	familyBound bool
	comments    []string // -m comment texts
	origin      string
	failed      bool // not expressible: reported, written as a comment
}

// rb builds one rule.
type rb struct {
	c     *conv
	rs    *Ruleset
	r     *iptables.Rule
	table string
	words []string
	acts  []string
	out   *rule
	// proto is the -p value in fwc's spelling ("" none), protoNeg its "!".
	proto    string
	protoNeg bool
	protoOpt *iptables.Option
	// protoUsed is set when a match named the protocol itself (tcp dport
	// ...), so that no separate "proto" is needed.
	protoUsed bool
}

func (b *rb) fail(r diag.Range, format string, args ...any) {
	if b.out.failed {
		return
	}
	b.out.failed = true
	b.c.ds.Add(diag.Error, CodeNoEquivalent, r, fmt.Sprintf(format, args...),
		"The rule is not imported: the output keeps it as a comment, the original line.")
}

func (b *rb) add(w ...string) { b.words = append(b.words, w...) }

func neg(o *iptables.Option) string {
	if o.Negated {
		return " !="
	}
	return ""
}

var protoWords = map[string]string{
	"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmpv6", "ipv6-icmp": "icmpv6",
	"sctp": "sctp", "udplite": "udplite", "gre": "gre", "esp": "esp", "ah": "ah", "igmp": "igmp",
	"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "132": "sctp", "136": "udplite",
	"47": "gre", "50": "esp", "51": "ah", "2": "igmp",
}

func (c *conv) rule(rs *Ruleset, table string, r *iptables.Rule, bad map[chainKey]bool) *rule {
	b := &rb{c: c, rs: rs, r: r, table: table, out: &rule{in: r, src: rs, origin: c.origin(rs, r.Range)}}
	b.build(bad)
	b.out.text = strings.Join(append(b.words, b.acts...), " ")
	return b.out
}

func (b *rb) build(bad map[chainKey]bool) {
	r := b.r
	if r.Family != nil && (r.Family.Name == "-4") != (b.rs.Family == IPv4) {
		// The other family's restore skips the rule: it is not loaded.
		b.fail(r.Family.Range, "%s rule in an %s file: the kernel never loads it", r.Family.Name, map[Family]string{IPv4: "iptables", IPv6: "ip6tables"}[b.rs.Family])
		return
	}
	for _, o := range r.Stray {
		b.fail(o.Range, "option %s belongs to no match", o.Name)
	}
	if r.Fragment != nil {
		b.fail(r.Fragment.Range, "-f (fragments) has no fwc equivalent")
	}
	if o := r.InIface; o != nil {
		b.iface("iif", o)
	}
	if o := r.OutIface; o != nil {
		b.iface("oif", o)
	}
	if o := r.Source; o != nil {
		b.addr("saddr", o)
	}
	if o := r.Destination; o != nil {
		b.addr("daddr", o)
	}
	if o := r.Protocol; o != nil {
		p := strings.ToLower(o.Value())
		if p == "all" || p == "0" {
			if o.Negated {
				b.fail(o.Range, "! -p all matches nothing")
			}
		} else if w, ok := protoWords[p]; ok {
			b.proto, b.protoNeg, b.protoOpt = w, o.Negated, o
		} else {
			b.fail(o.Range, "protocol %q has no fwc name", o.Value())
		}
	}
	if b.proto != "" && !b.protoNeg && statefulFirst(r) {
		// iptables tests -p before every match; fwc runs a rule's
		// conditions in order, and a limit (or hashlimit, connlimit,
		// statistic) before "icmp type" would count the packets of
		// every protocol. Say the protocol first.
		b.add("proto", b.proto)
		b.protoUsed = true
	}
	for _, m := range r.Matches {
		// A match that names the protocol but adds nothing ("-m udp"
		// alone) leaves the protocol to be written by itself.
		used, n := b.protoUsed, len(b.words)
		b.match(m)
		if len(b.words) == n {
			b.protoUsed = used
		}
	}
	if b.proto != "" && !b.protoUsed {
		if b.protoNeg {
			b.add("proto", "!=", b.proto)
		} else {
			b.add("proto", b.proto)
		}
		if b.proto == "icmp" || b.proto == "icmpv6" {
			b.out.familyBound = true
		}
	}
	b.target(bad)
}

// statefulMatches keep state per packet they see: where they stand among
// a rule's conditions changes what they count.
var statefulMatches = map[string]bool{"limit": true, "hashlimit": true, "connlimit": true, "statistic": true, "recent": true, "quota": true}

// statefulFirst tells whether a stateful match comes before every match
// that would write the protocol (tcp dport, icmp type, ...).
func statefulFirst(r *iptables.Rule) bool {
	for _, m := range r.Matches {
		switch {
		case statefulMatches[m.Name]:
			return true
		case protoMatches[m.Name] && len(m.Options) > 0:
			return false
		}
	}
	return false
}

var protoMatches = map[string]bool{"tcp": true, "udp": true, "sctp": true, "udplite": true, "icmp": true, "icmp6": true, "multiport": true}

func (b *rb) iface(kw string, o *iptables.Option) {
	v := o.Value()
	if strings.HasSuffix(v, "+") {
		v = strings.TrimSuffix(v, "+") + "*"
	}
	if !ifaceRE.MatchString(v) {
		b.fail(valRange(o), "interface name %q cannot be written in fwc", o.Value())
		return
	}
	b.add(kw + neg(o) + " " + v)
}

var ifaceRE = regexpMust(`^[A-Za-z_][A-Za-z0-9_.-]*\*?$`)

func (b *rb) addr(kw string, o *iptables.Option) {
	var parts []string
	for _, s := range strings.Split(o.Value(), ",") {
		p, ok := parseAddr(s)
		if !ok || p.Addr().Is4() != (b.rs.Family == IPv4) {
			b.fail(valRange(o), "address %q cannot be imported (a host name, or not of the file's family)", s)
			return
		}
		parts = append(parts, addrText(p))
	}
	b.out.familyBound = true
	b.add(kw + neg(o) + " " + strings.Join(parts, ", "))
}

// portProto is the protocol a port or flag match needs, from -p.
func (b *rb) portProto(m *iptables.Match) (string, bool) {
	switch b.proto {
	case "tcp", "udp", "sctp", "udplite":
		if b.protoNeg {
			b.fail(b.protoOpt.Range, "-m %s after ! -p has no fwc equivalent", m.Name)
			return "", false
		}
		b.protoUsed = true
		return b.proto, true
	}
	b.fail(m.Range, "-m %s needs -p tcp, udp, sctp or udplite", m.Name)
	return "", false
}

// services are the port names of /etc/services that hand-written rulesets
// use; iptables resolves them when it loads the rule, and iptables-save
// prints numbers. The numbers are IANA's, the same on every host.
var services = map[string]string{
	"ftp-data": "20", "ftp": "21", "ssh": "22", "telnet": "23", "smtp": "25", "domain": "53",
	"bootps": "67", "bootpc": "68", "tftp": "69", "http": "80", "www": "80", "kerberos": "88",
	"pop3": "110", "sunrpc": "111", "ntp": "123", "netbios-ns": "137", "netbios-dgm": "138",
	"netbios-ssn": "139", "imap2": "143", "imap": "143", "snmp": "161", "snmp-trap": "162",
	"bgp": "179", "ldap": "389", "https": "443", "microsoft-ds": "445", "isakmp": "500",
	"syslog": "514", "submission": "587", "ldaps": "636", "rsync": "873", "imaps": "993",
	"pop3s": "995", "openvpn": "1194", "mysql": "3306", "ipsec-nat-t": "4500", "postgresql": "5432",
}

// port is a port number or a name of services.
func port(s string) (string, bool) {
	if v, ok := services[s]; ok {
		return v, true
	}
	_, err := strconv.ParseUint(s, 10, 16)
	return s, err == nil
}

func ports(s string) (string, bool) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(p, ":")
		var ok bool
		if lo, ok = port(lo); !ok {
			return "", false
		}
		if isRange {
			if hi, ok = port(hi); !ok {
				return "", false
			}
			out = append(out, lo+"-"+hi)
		} else {
			out = append(out, lo)
		}
	}
	return strings.Join(out, ", "), true
}

func (b *rb) unknownOption(m *iptables.Match, o *iptables.Option) {
	b.fail(o.Range, "%s of -m %s has no fwc equivalent", o.Name, m.Name)
}

func (b *rb) match(m *iptables.Match) {
	switch m.Name {
	case "comment":
		for _, o := range m.Options {
			if o.Name == "--comment" {
				b.out.comments = append(b.out.comments, oneLine(o.Value()))
			}
		}
	case "tcp", "udp", "sctp", "udplite":
		proto, ok := b.portProto(m)
		if !ok {
			return
		}
		if m.Name != proto {
			b.fail(m.Range, "-m %s with -p %s", m.Name, proto)
			return
		}
		for _, o := range m.Options {
			switch o.Name {
			case "--dport", "--destination-port", "--sport", "--source-port":
				p, ok := ports(o.Value())
				if !ok || strings.Contains(p, ",") {
					b.fail(o.Range, "port %q cannot be imported", o.Value())
					return
				}
				kw := "dport"
				if o.Name == "--sport" || o.Name == "--source-port" {
					kw = "sport"
				}
				b.add(proto, kw+neg(o), p)
			case "--syn":
				if proto != "tcp" {
					b.unknownOption(m, o)
					return
				}
				if o.Negated {
					b.add("tcp flags != syn / fin|syn|rst|ack")
				} else {
					b.add("tcp syn")
				}
			case "--tcp-flags":
				if proto != "tcp" || len(o.Values) != 2 {
					b.unknownOption(m, o)
					return
				}
				mask, ok1 := flags(o.Values[0].Text)
				comp, ok2 := flags(o.Values[1].Text)
				if !ok1 || !ok2 {
					b.fail(valRange(o), "tcp flags %s %s cannot be imported", o.Values[0].Text, o.Values[1].Text)
					return
				}
				b.add("tcp flags" + neg(o) + " " + comp + " / " + mask)
			default:
				b.unknownOption(m, o)
			}
		}
	case "multiport":
		proto, ok := b.portProto(m)
		if !ok {
			return
		}
		for _, o := range m.Options {
			kw := map[string]string{"--dports": "dport", "--destination-ports": "dport", "--sports": "sport", "--source-ports": "sport"}[o.Name]
			if kw == "" {
				b.unknownOption(m, o)
				return
			}
			p, ok := ports(o.Value())
			if !ok {
				b.fail(valRange(o), "ports %q cannot be imported", o.Value())
				return
			}
			b.add(proto, kw+neg(o), p)
		}
	case "icmp", "icmp6":
		want := map[string]string{"icmp": "icmp", "icmp6": "icmpv6"}[m.Name]
		if b.proto != want || b.protoNeg {
			b.fail(m.Range, "-m %s needs -p %s", m.Name, want)
			return
		}
		b.protoUsed = true
		b.out.familyBound = true
		for _, o := range m.Options {
			if o.Name != "--icmp-type" && o.Name != "--icmpv6-type" {
				b.unknownOption(m, o)
				return
			}
			t, ok := icmpType(want, o.Value())
			if !ok {
				b.fail(valRange(o), "icmp type %q cannot be imported", o.Value())
				return
			}
			if t == "" { // "any"
				if o.Negated {
					b.fail(o.Range, "! --icmp-type any matches nothing")
				}
				b.add("proto", want)
				continue
			}
			b.add(want, "type"+neg(o), t)
		}
	case "state", "conntrack":
		for _, o := range m.Options {
			switch o.Name {
			case "--state", "--ctstate":
				b.ctstate(o)
			case "--ctstatus":
				var st []string
				for _, s := range strings.Split(o.Value(), ",") {
					w := map[string]string{"EXPECTED": "expected", "SEEN_REPLY": "seen-reply", "ASSURED": "assured", "CONFIRMED": "confirmed"}[strings.ToUpper(s)]
					if w == "" {
						b.fail(valRange(o), "ct status %q cannot be imported", s)
						return
					}
					st = append(st, w)
				}
				b.add("ct status"+neg(o), strings.Join(st, ", "))
			default:
				b.unknownOption(m, o)
			}
		}
	case "mark", "connmark":
		kw := map[string]string{"mark": "mark", "connmark": "ct mark"}[m.Name]
		for _, o := range m.Options {
			if o.Name != "--mark" {
				b.unknownOption(m, o)
				return
			}
			if _, _, _, ok := parseMark(o.Value()); !ok {
				b.fail(valRange(o), "mark %q cannot be imported", o.Value())
				return
			}
			b.add(kw+neg(o), o.Value())
		}
	case "limit":
		rate, burst := "", ""
		for _, o := range m.Options {
			switch o.Name {
			case "--limit":
				r, ok := rateText(o.Value())
				if !ok || o.Negated {
					b.fail(o.Range, "limit %q cannot be imported", o.Value())
					return
				}
				rate = r
			case "--limit-burst":
				burst = o.Value()
				if !uintIn(burst, 1, 1<<32-1) || o.Negated {
					b.fail(valRange(o), "burst %q cannot be imported", burst)
					return
				}
			default:
				b.unknownOption(m, o)
				return
			}
		}
		if rate == "" {
			rate = "3/hour" // iptables' default
		}
		if burst != "" {
			rate += " burst " + burst
		}
		b.add("limit", rate)
	case "addrtype":
		for _, o := range m.Options {
			dir := map[string]string{"--src-type": "src", "--dst-type": "dst"}[o.Name]
			if dir == "" {
				b.unknownOption(m, o)
				return
			}
			var ts []string
			for _, v := range strings.Split(o.Value(), ",") {
				v = strings.ToLower(v)
				switch v {
				case "unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable", "prohibit", "throw", "nat", "xresolve":
					ts = append(ts, v)
				default:
					b.fail(valRange(o), "address type %q cannot be imported", v)
					return
				}
			}
			b.add("addrtype "+dir+neg(o), strings.Join(ts, ", "))
		}
	case "ttl", "hl":
		kw := map[string]string{"ttl": "ttl", "hl": "hoplimit"}[m.Name]
		for _, o := range m.Options {
			v := o.Value()
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 255 {
				b.fail(valRange(o), "%s %q cannot be imported", m.Name, v)
				return
			}
			switch strings.TrimPrefix(strings.TrimPrefix(o.Name, "--ttl-"), "--hl-") {
			case "eq":
				b.add(kw+neg(o), v)
			case "lt":
				if n == 0 || o.Negated {
					b.fail(o.Range, "%s of -m %s cannot be imported", o.Name, m.Name)
					return
				}
				b.add(kw, "0-"+strconv.Itoa(n-1))
			case "gt":
				if n == 255 || o.Negated {
					b.fail(o.Range, "%s of -m %s cannot be imported", o.Name, m.Name)
					return
				}
				b.add(kw, strconv.Itoa(n+1)+"-255")
			default:
				b.unknownOption(m, o)
				return
			}
		}
	case "iprange":
		for _, o := range m.Options {
			kw := map[string]string{"--src-range": "saddr", "--dst-range": "daddr"}[o.Name]
			lo, hi, ok := strings.Cut(o.Value(), "-")
			a, ok1 := parseAddr(lo)
			z, ok2 := parseAddr(hi)
			if kw == "" || !ok || !ok1 || !ok2 || !a.IsSingleIP() || !z.IsSingleIP() || a.Addr().Is4() != (b.rs.Family == IPv4) {
				b.unknownOption(m, o)
				return
			}
			b.out.familyBound = true
			b.add(kw+neg(o), a.Addr().String()+"-"+z.Addr().String())
		}
	case "set":
		b.setMatch(m)
	case "statistic":
		mode, prob := "", ""
		for _, o := range m.Options {
			switch o.Name {
			case "--mode":
				mode = o.Value()
			case "--probability":
				if o.Negated {
					b.unknownOption(m, o)
					return
				}
				prob = o.Value()
				if p, err := strconv.ParseFloat(prob, 64); err != nil || !(p > 0 && p < 1) {
					b.fail(valRange(o), "probability %q cannot be imported", prob)
					return
				}
			default:
				b.unknownOption(m, o)
				return
			}
		}
		if mode != "random" || prob == "" {
			b.fail(m.Range, "-m statistic --mode %s has no fwc equivalent", mode)
			return
		}
		b.add("probability", prob)
	case "connlimit":
		above, mask := "", ""
		for _, o := range m.Options {
			switch o.Name {
			case "--connlimit-above":
				if o.Negated {
					b.unknownOption(m, o)
					return
				}
				above = o.Value()
				if !uintIn(above, 0, 1<<32-1) {
					b.fail(valRange(o), "count %q cannot be imported", above)
					return
				}
			case "--connlimit-mask":
				mask = o.Value()
				if !uintIn(mask, 0, 128) {
					b.fail(valRange(o), "mask %q cannot be imported", mask)
					return
				}
			case "--connlimit-saddr":
			default:
				b.unknownOption(m, o)
				return
			}
		}
		if above == "" {
			b.fail(m.Range, "-m connlimit without --connlimit-above has no fwc equivalent")
			return
		}
		s := "connlimit over " + above
		if mask != "" {
			s += " mask " + mask
		}
		b.add(s)
	case "time":
		b.timeMatch(m)
	case "hashlimit":
		b.hashlimit(m)
	case "string":
		algo, str := "", ""
		for _, o := range m.Options {
			switch {
			case o.Name == "--algo" && !o.Negated:
				algo = o.Value()
			case o.Name == "--string" && !o.Negated:
				str = o.Value()
			default:
				b.unknownOption(m, o)
				return
			}
		}
		if str == "" || algo != "bm" && algo != "kmp" {
			b.fail(m.Range, "-m string without --string and --algo bm or kmp has no fwc equivalent")
			return
		}
		b.add("string", fwcString(str), "algo", algo)
	default:
		b.fail(m.Range, "-m %s has no fwc equivalent", m.Name)
	}
}

var weekdayWords = map[string]string{
	"mon": "mon", "tue": "tue", "wed": "wed", "thu": "thu", "fri": "fri", "sat": "sat", "sun": "sun",
	"1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun",
}

var clockRE = regexpMust(`^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$`)
var dateRE = regexpMust(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$`)

// timeMatch converts -m time, whose times are UTC as fwc's are (iptables'
// --kerneltz is refused).
func (b *rb) timeMatch(m *iptables.Match) {
	var start, stop, dstart, dstop string
	for _, o := range m.Options {
		if o.Negated {
			b.unknownOption(m, o)
			return
		}
		switch o.Name {
		case "--timestart":
			start = o.Value()
		case "--timestop":
			stop = o.Value()
		case "--datestart":
			dstart = o.Value()
		case "--datestop":
			dstop = o.Value()
		case "--utc":
		case "--weekdays":
			var days []string
			for _, d := range strings.Split(o.Value(), ",") {
				w, ok := weekdayWords[strings.ToLower(d)]
				if !ok {
					b.fail(valRange(o), "weekday %q cannot be imported", d)
					return
				}
				days = append(days, w)
			}
			b.add("day", strings.Join(days, ", "))
		default:
			b.unknownOption(m, o)
			return
		}
	}
	if start != "" || stop != "" {
		// fwc's hour range is one range, start before stop; iptables
		// wraps past midnight when start is later.
		if start == "" {
			start = "00:00"
		}
		if stop == "" {
			stop = "23:59:59"
		}
		if !clockRE.MatchString(start) || !clockRE.MatchString(stop) || clock(start) >= clock(stop) {
			b.fail(m.Range, "-m time --timestart %s --timestop %s cannot be imported (fwc takes one range within a day)", start, stop)
			return
		}
		b.add("hour", fwcString(start)+"-"+fwcString(stop))
	}
	if dstart != "" || dstop != "" {
		if !dateRE.MatchString(dstart) || !dateRE.MatchString(dstop) || dstart >= dstop {
			b.fail(m.Range, "-m time --datestart %q --datestop %q cannot be imported (fwc needs both, start first)", dstart, dstop)
			return
		}
		b.add("date", fwcString(dstart)+"-"+fwcString(dstop))
	}
}

// clock is "HH:MM[:SS]" in a form that compares in time order.
func clock(s string) string {
	if len(s) == 5 {
		return s + ":00"
	}
	return s
}

// hashlimit converts the form fwc's meter stands for: --hashlimit-above
// per source or destination address, with a name.
func (b *rb) hashlimit(m *iptables.Match) {
	var above, burst, mode, name, mask string
	for _, o := range m.Options {
		if o.Negated {
			b.unknownOption(m, o)
			return
		}
		switch o.Name {
		case "--hashlimit-above":
			above = o.Value()
		case "--hashlimit-burst":
			burst = o.Value()
			if !uintIn(burst, 1, 1<<32-1) {
				b.fail(valRange(o), "burst %q cannot be imported", burst)
				return
			}
		case "--hashlimit-mode":
			mode = o.Value()
		case "--hashlimit-name":
			name = o.Value()
		case "--hashlimit-srcmask", "--hashlimit-dstmask":
			mask = o.Value()
			if !uintIn(mask, 0, 128) {
				b.fail(valRange(o), "mask %q cannot be imported", mask)
				return
			}
		case "--hashlimit-htable-size", "--hashlimit-htable-max", "--hashlimit-htable-gcinterval":
			// Sizes and housekeeping of the kernel's table.
		default:
			b.unknownOption(m, o)
			return
		}
	}
	per := map[string]string{"srcip": "saddr", "dstip": "daddr"}[mode]
	rate, ok := rateText(above)
	if !ok || per == "" || !validName(name) {
		b.fail(m.Range, "this -m hashlimit has no fwc equivalent (fwc's meter is --hashlimit-above per srcip or dstip, with a name)")
		return
	}
	s := "meter " + name + " per " + per
	if mask != "" {
		s += " mask " + mask
	}
	s += " over " + rate
	if burst != "" {
		s += " burst " + burst
	}
	b.add(s)
}

func (b *rb) ctstate(o *iptables.Option) {
	var states, statuses []string
	for _, s := range strings.Split(o.Value(), ",") {
		switch strings.ToUpper(s) {
		case "NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED":
			states = append(states, strings.ToLower(s))
		case "SNAT", "DNAT":
			statuses = append(statuses, strings.ToLower(s))
		default:
			b.fail(valRange(o), "conntrack state %q cannot be imported", s)
			return
		}
	}
	if len(states) > 0 && len(statuses) > 0 && o.Negated {
		// Negated, the "or" across two fields of the connection is an
		// "and" of two negated matches.
		b.add("ct state !=", strings.Join(states, ", "), "ct status !=", strings.Join(statuses, ", "))
		return
	}
	if len(states) > 0 && len(statuses) > 0 {
		// One list is an "or" across two fields of the connection.
		b.fail(valRange(o), "states %q mix real and virtual (SNAT, DNAT) states, which fwc cannot join in one match", o.Value())
		return
	}
	if len(states) > 0 {
		b.add("ct state"+neg(o), strings.Join(states, ", "))
	} else {
		b.add("ct status"+neg(o), strings.Join(statuses, ", "))
	}
}

func (b *rb) setMatch(m *iptables.Match) {
	for _, o := range m.Options {
		if o.Name != "--match-set" {
			b.unknownOption(m, o)
			return
		}
		if len(o.Values) != 2 {
			b.unknownOption(m, o)
			return
		}
		name, dir := o.Values[0].Text, o.Values[1].Text
		info := b.c.sets[name]
		if info == nil {
			b.out.failed = true
			b.c.ds.Add(diag.Error, CodeUnknownSet, valRange(o), fmt.Sprintf("set %q is not in the ipset files given", name),
				"The rule is not imported: the output keeps it as a comment, the original line.")
			return
		}
		if info.typ == "" {
			b.fail(valRange(o), "set %q was not imported", name)
			return
		}
		if dir != "src" && dir != "dst" {
			b.fail(o.Values[1].Range, "set lookup %q has no fwc equivalent", dir)
			return
		}
		if info.typ == "port" {
			proto := b.proto
			if proto != "tcp" && proto != "udp" && proto != "sctp" && proto != "udplite" || b.protoNeg {
				b.fail(valRange(o), "port set %q needs -p tcp, udp, sctp or udplite", name)
				return
			}
			b.protoUsed = true
			b.add(proto, map[string]string{"src": "sport", "dst": "dport"}[dir]+neg(o), "@"+name)
			continue
		}
		if info.fam != b.rs.Family {
			b.fail(valRange(o), "set %q is not of the file's family", name)
			return
		}
		b.out.familyBound = true
		b.add(map[string]string{"src": "saddr", "dst": "daddr"}[dir]+neg(o), "@"+name)
	}
}

func flags(s string) (string, bool) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(f)
		switch f {
		case "fin", "syn", "rst", "psh", "ack", "urg", "all", "none":
			out = append(out, f)
		default:
			return "", false
		}
	}
	return strings.Join(out, "|"), true
}

func rateText(s string) (string, bool) {
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		unit = "sec"
	}
	if _, err := strconv.ParseUint(n, 10, 32); err != nil {
		return "", false
	}
	for _, u := range []string{"second", "minute", "hour", "day"} {
		if unit != "" && strings.HasPrefix(u, unit) {
			return n + "/" + u, true
		}
	}
	return "", false
}

// icmpNamesV4 are the names iptables knows that fwc does not, as type/code.
var icmpNamesV4 = map[string]string{
	"network-unreachable": "3/0", "host-unreachable": "3/1", "protocol-unreachable": "3/2",
	"port-unreachable": "3/3", "fragmentation-needed": "3/4", "source-route-failed": "3/5",
	"network-unknown": "3/6", "host-unknown": "3/7", "network-prohibited": "3/9",
	"host-prohibited": "3/10", "TOS-network-unreachable": "3/11", "TOS-host-unreachable": "3/12",
	"communication-prohibited": "3/13", "host-precedence-violation": "3/14",
	"precedence-cutoff": "3/15", "network-redirect": "5/0", "host-redirect": "5/1",
	"TOS-network-redirect": "5/2", "TOS-host-redirect": "5/3", "ttl-zero-during-transit": "11/0",
	"ttl-zero-during-reassembly": "11/1", "ip-header-bad": "12/0", "required-option-missing": "12/1",
	"router-advertisement": "9", "router-solicitation": "10", "echo-request": "8", "echo-reply": "0",
	"destination-unreachable": "3", "source-quench": "4", "redirect": "5", "time-exceeded": "11",
	"parameter-problem": "12", "timestamp-request": "13", "timestamp-reply": "14",
	"address-mask-request": "17", "address-mask-reply": "18", "ping": "8", "pong": "0",
}

var icmpNamesV6 = map[string]string{
	"destination-unreachable": "1", "no-route": "1/0", "communication-prohibited": "1/1",
	"beyond-scope": "1/2", "address-unreachable": "1/3", "port-unreachable": "1/4",
	"failed-policy": "1/5", "reject-route": "1/6", "packet-too-big": "2", "time-exceeded": "3",
	"ttl-zero-during-transit": "3/0", "ttl-zero-during-reassembly": "3/1", "parameter-problem": "4",
	"bad-header": "4/0", "unknown-header-type": "4/1", "unknown-option": "4/2",
	"echo-request": "128", "ping": "128", "echo-reply": "129", "pong": "129",
	"router-solicitation": "133", "router-advertisement": "134", "neighbour-solicitation": "135",
	"neighbor-solicitation": "135", "neighbour-advertisement": "136", "neighbor-advertisement": "136",
	"redirect": "137", "mld-listener-query": "130", "mld-listener-report": "131", "mld-listener-done": "132",
}

// fwcICMP are the names fwc knows, by number, to write the readable name
// where there is one.
var fwcICMP = map[string]map[string]string{
	"icmp": {"0": "echo-reply", "3": "destination-unreachable", "4": "source-quench", "5": "redirect",
		"8": "echo-request", "9": "router-advertisement", "10": "router-solicitation", "11": "time-exceeded",
		"12": "parameter-problem", "13": "timestamp-request", "14": "timestamp-reply",
		"17": "address-mask-request", "18": "address-mask-reply"},
	"icmpv6": {"1": "destination-unreachable", "2": "packet-too-big", "3": "time-exceeded",
		"4": "parameter-problem", "128": "echo-request", "129": "echo-reply", "130": "mld-listener-query",
		"131": "mld-listener-report", "132": "mld-listener-done", "133": "nd-router-solicit",
		"134": "nd-router-advert", "135": "nd-neighbor-solicit", "136": "nd-neighbor-advert",
		"137": "nd-redirect"},
}

// icmpType returns the fwc spelling of an iptables icmp type ("" for any).
func icmpType(proto, s string) (string, bool) {
	if s == "any" {
		return "", true
	}
	names := icmpNamesV4
	if proto == "icmpv6" {
		names = icmpNamesV6
	}
	if v, ok := names[s]; ok {
		s = v
	}
	t, code, hasCode := strings.Cut(s, "/")
	if _, err := strconv.ParseUint(t, 10, 8); err != nil {
		return "", false
	}
	if hasCode {
		if _, err := strconv.ParseUint(code, 10, 8); err != nil {
			return "", false
		}
		return s, true
	}
	if n, ok := fwcICMP[proto][t]; ok {
		return n, true
	}
	return t, true
}

// valRange is the range of o's first value, or of o when it has none (the
// reader reported the missing value and kept the option).
func valRange(o *iptables.Option) diag.Range {
	if len(o.Values) > 0 {
		return o.Values[0].Range
	}
	return o.Range
}

// uintIn tells whether s is a decimal number from lo to hi: values are
// written into the policy as they are, so each is checked first.
func uintIn(s string, lo, hi uint64) bool {
	v, err := strconv.ParseUint(s, 10, 64)
	return err == nil && v >= lo && v <= hi
}

// oneLine makes s fit in a comment: a comment ends at the line end.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
