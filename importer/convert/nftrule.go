package convert

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/nft"
)

// nrb builds the fwc text of one nft rule.
type nrb struct {
	nc    *nftConv
	p     *nftPart
	words []string
	acts  []string
	// fam is the family the rule is bound to ("" both): the table's, or
	// what a match of one family says.
	fam     string
	famSaid bool // fam must be written ("family ipv4"): nothing else in the rule says it
	failed  bool
	// proto is the single transport protocol of a "meta l4proto" match,
	// for "th dport".
	proto string
	// vmap expansion: the rules it becomes, each a full text.
	expanded []string
	// icmpTypeAt is the index in words of a single icmp type, for an icmp
	// code that follows; -1 none.
	icmpTypeAt int
	// splitAt is the index in words of a protocol list holding both icmp
	// and icmpv6 (splitProtos), which becomes one rule per family; -1 none.
	splitAt     int
	splitProtos []string
}

func (b *nrb) fail(r diag.Range, format string, args ...any) {
	if b.failed {
		return
	}
	b.failed = true
	b.nc.c.ds.Add(diag.Error, CodeNoEquivalent, r, fmt.Sprintf(format, args...),
		"The rule is not imported: the output keeps it as a comment, the original text.")
}

func (b *nrb) add(w ...string) { b.words = append(b.words, w...) }

// family binds the rule to f, or fails when it is bound to the other.
func (b *nrb) family(f string, r diag.Range, say bool) {
	if f == "" {
		return
	}
	if b.fam != "" && b.fam != f {
		b.fail(r, "a match of %s in a rule of %s matches nothing", f, b.fam)
		return
	}
	b.fam = f
	if say {
		b.famSaid = true
	}
}

// rule converts one rule; a vmap may make it several fwc rules.
func (nc *nftConv) rule(p *nftPart, r *nft.Rule) ([]string, []string, bool) {
	if r.Bad {
		return nil, nil, false // the reader reported it
	}
	b := &nrb{nc: nc, p: p, fam: p.fam, famSaid: p.fam != "", icmpTypeAt: -1, splitAt: -1}
	var comments []string
	if r.Comment != "" {
		comments = append(comments, oneLine(r.Comment))
	}
	terminal := false
	for i, s := range r.Stmts {
		if b.failed {
			break
		}
		if terminal {
			// nft refuses it ("Statement after terminal statement has no
			// effect"); a listing never has one.
			b.fail(s.Range, "a statement after a verdict has no effect (nft refuses the rule)")
			break
		}
		terminal = isTerminal(s)
		if s.Kind == nft.StmtVmap {
			b.vmap(s, r.Stmts[:i])
			break
		}
		b.stmt(s)
	}
	if b.failed {
		return nil, nil, false
	}
	if b.expanded != nil {
		return b.expanded, comments, true
	}
	if b.splitAt >= 0 {
		var out []string
		for _, f := range []struct{ fam, drop string }{{"ipv4", "icmpv6"}, {"ipv6", "icmp"}} {
			if b.fam != "" && b.fam != f.fam {
				continue
			}
			var ps []string
			for _, p := range b.splitProtos {
				if p != f.drop {
					ps = append(ps, p)
				}
			}
			sub := *b
			sub.words = slices.Clone(b.words)
			sub.words[b.splitAt+1] = strings.Join(ps, ", ")
			sub.fam, sub.famSaid = f.fam, b.famSaid || len(ps) > 1
			out = append(out, sub.text())
		}
		return out, comments, true
	}
	return []string{b.text()}, comments, true
}

// isTerminal tells whether a statement ends its rule: verdicts, reject
// and NAT.
func isTerminal(s *nft.Stmt) bool {
	switch s.Kind {
	case nft.StmtVerdict, nft.StmtReject, nft.StmtNAT, nft.StmtVmap:
		return true
	}
	return false
}

func (b *nrb) text() string {
	words := b.words
	if b.famSaid && b.fam != "" {
		words = append([]string{"family", b.fam}, words...)
	}
	acts := b.acts
	if len(acts) == 0 {
		// nft rules without a verdict fall through; fwc needs an action
		// and counting changes nothing a packet sees.
		acts = []string{"counter"}
	}
	return strings.Join(append(append([]string{}, words...), acts...), " ")
}

func (b *nrb) stmt(s *nft.Stmt) {
	switch s.Kind {
	case nft.StmtMatch:
		b.match(s)
	case nft.StmtVerdict:
		switch s.Verdict {
		case "accept", "drop", "return":
			b.acts = append(b.acts, s.Verdict)
		case "jump", "goto":
			if b.nc.bad[b.p.t][s.Target] {
				b.fail(s.Range, "%s to chain %s, which is not imported", s.Verdict, s.Target)
				return
			}
			if b.p.t.Chain(s.Target) == nil {
				b.fail(s.Range, "%s to chain %s, which the table does not have", s.Verdict, s.Target)
				return
			}
			b.acts = append(b.acts, s.Verdict, chainName(b.p.t, b.p.table, s.Target))
		default:
			b.fail(s.Range, "verdict %s has no fwc equivalent", s.Verdict)
		}
	case nft.StmtCounter:
		b.acts = append(b.acts, "counter")
	case nft.StmtNotrack:
		b.acts = append(b.acts, "notrack")
	case nft.StmtLog:
		b.log(s)
	case nft.StmtLimit:
		if w, ok := b.limitText(s); ok {
			b.add(w)
		}
	case nft.StmtReject:
		b.reject(s)
	case nft.StmtNAT:
		b.nat(s)
	case nft.StmtMangle:
		b.mangle(s)
	case nft.StmtDynset:
		b.dynset(s)
	case nft.StmtVmap:
		b.fail(s.Range, "a second vmap in one rule has no fwc equivalent")
	default:
		if s.Name == "xt" {
			// iptables-nft's extensions: nft shows only their name.
			b.fail(s.Range, "an iptables extension (written by iptables-nft) that nft cannot describe; import iptables-save's output for this table")
			return
		}
		b.fail(s.Range, "nft %s has no fwc equivalent", s.Name)
	}
}

func opWord(kw string, s *nft.Stmt) (string, bool) {
	switch s.Op {
	case "==":
		return kw, true
	case "!=":
		return kw + " !=", true
	}
	return "", false
}

// values writes the right side of a match as an fwc value list.
func (b *nrb) values(e *nft.Expr) ([]string, *nftSetInfo, bool) {
	switch e.Kind {
	case nft.ExprSetRef:
		info := b.nc.sets[b.p.t][e.Text]
		if info == nil {
			b.fail(e.Range, "set @%s is not declared in table %s %s", e.Text, b.p.t.Family, b.p.t.Name)
			return nil, nil, false
		}
		if info.name != "" {
			return []string{"@" + info.name}, info, true
		}
		if info.inline != nil {
			if len(info.inline) == 0 {
				b.fail(e.Range, "set @%s is empty: the match never holds", e.Text)
				return nil, nil, false
			}
			return info.inline, nil, true
		}
		b.fail(e.Range, "%s has no fwc equivalent", orWhy(info.why, "set @"+e.Text))
		return nil, nil, false
	case nft.ExprSet, nft.ExprList:
		var out []string
		for _, a := range e.Args {
			vs, _, ok := b.values(a)
			if !ok || len(vs) != 1 && a.Kind != nft.ExprList && a.Kind != nft.ExprSet {
				if ok {
					b.fail(a.Range, "this element has no fwc spelling")
				}
				return nil, nil, false
			}
			out = append(out, vs...)
		}
		if len(out) == 0 {
			b.fail(e.Range, "an empty set matches nothing")
			return nil, nil, false
		}
		return out, nil, true
	case nft.ExprBinop:
		if e.Op == "|" {
			// flags written a|b: one value
			var parts []string
			for _, a := range e.Args {
				vs, _, ok := b.values(a)
				if !ok || len(vs) != 1 {
					return nil, nil, false
				}
				parts = append(parts, vs[0])
			}
			return []string{strings.Join(parts, "|")}, nil, true
		}
	}
	v, ok := nftValue(e)
	if !ok {
		b.fail(e.Range, "this value has no fwc spelling")
		return nil, nil, false
	}
	return []string{v}, nil, true
}

func orWhy(why, dflt string) string {
	if why != "" {
		return why
	}
	return dflt
}

var fieldKW = map[string]string{
	"meta iifname": "iif", "meta oifname": "oif", "meta iif": "iif", "meta oif": "oif",
	"ct state": "ct state", "ct status": "ct status", "ct mark": "ct mark", "meta mark": "mark",
	"ct direction": "ct direction", "ct zone": "ct zone", "ct helper": "ct helper",
	"meta pkttype": "pkttype", "meta length": "length", "meta skuid": "owner uid", "meta skgid": "owner gid",
	"ip ttl": "ttl", "ip6 hoplimit": "hoplimit", "ip dscp": "dscp", "ip6 dscp": "dscp",
	"fib daddr type": "addrtype dst", "fib saddr type": "addrtype src",
	"meta l4proto": "proto", "ip protocol": "proto",
}

// fieldFamily is the family a field belongs to, when fwc's word for it
// does not say so itself.
var fieldFamily = map[string]string{"ip protocol": "ipv4", "ip dscp": "ipv4", "ip6 dscp": "ipv6"}

var l4protos = map[string]bool{"tcp": true, "udp": true, "sctp": true, "udplite": true}

func (b *nrb) match(s *nft.Stmt) {
	l := s.Left
	if l.Kind == nft.ExprBinop {
		b.maskedMatch(s)
		return
	}
	if l.Kind == nft.ExprConcat {
		b.concatMatch(s)
		return
	}
	if l.Kind != nft.ExprField {
		b.fail(l.Range, "this match has no fwc equivalent")
		return
	}
	key := l.Proto + " " + l.Name
	if s.Op != "==" && s.Op != "!=" {
		b.fail(s.Range, "%s %s has no fwc equivalent (fwc compares with = and !=)", key, s.Op)
		return
	}
	neg := s.Op == "!="
	switch {
	case key == "ip saddr" || key == "ip daddr" || key == "ip6 saddr" || key == "ip6 daddr":
		fam := map[string]string{"ip": "ipv4", "ip6": "ipv6"}[l.Proto]
		b.family(fam, l.Range, false)
		vs, info, ok := b.values(s.Right)
		if !ok {
			return
		}
		if info != nil && info.fam != "" && info.fam != fam {
			b.fail(s.Right.Range, "set @%s is not of the field's family", info.name)
			return
		}
		for _, v := range vs {
			if strings.HasPrefix(v, "@") {
				continue
			}
			lo, hi, isRange := strings.Cut(v, "-")
			for _, a := range []string{lo, hi} {
				if a == "" && isRange || !isRange && a == hi {
					continue
				}
				p, ok := parseAddr(a)
				if !ok || p.Addr().Is4() != (fam == "ipv4") || isRange && !p.IsSingleIP() {
					b.fail(s.Right.Range, "address %q cannot be imported", v)
					return
				}
			}
		}
		kw, _ := opWord(l.Name, s)
		b.add(kw, strings.Join(vs, ", "))
	case (l.Proto == "tcp" || l.Proto == "udp" || l.Proto == "sctp" || l.Proto == "udplite" || l.Proto == "th") && (l.Name == "dport" || l.Name == "sport"):
		proto := l.Proto
		if proto == "th" {
			if b.proto == "" {
				b.fail(l.Range, "th %s without one transport protocol before it has no fwc equivalent", l.Name)
				return
			}
			proto = b.proto
		}
		vs, info, ok := b.values(s.Right)
		if !ok {
			return
		}
		if info != nil && info.key != "port" {
			b.fail(s.Right.Range, "set @%s is not a set of ports", info.name)
			return
		}
		for i, v := range vs {
			if strings.HasPrefix(v, "@") {
				continue
			}
			lo, hi, isRange := strings.Cut(v, "-")
			var ok1, ok2 bool
			lo, ok1 = port(lo)
			hi, ok2 = port(hi)
			if !ok1 || isRange && !ok2 {
				b.fail(s.Right.Range, "port %q cannot be imported", v)
				return
			}
			vs[i] = lo
			if isRange {
				vs[i] += "-" + hi
			}
		}
		kw, _ := opWord(l.Name, s)
		b.add(proto, kw, strings.Join(vs, ", "))
	case key == "tcp flags":
		b.tcpFlags(s, "", s.Right)
	case key == "icmp type" || key == "icmpv6 type":
		b.family(map[string]string{"icmp": "ipv4", "icmpv6": "ipv6"}[l.Proto], l.Range, false)
		vs, _, ok := b.values(s.Right)
		if !ok {
			return
		}
		for i, v := range vs {
			t, ok := nftICMP(l.Proto, v)
			if !ok {
				b.fail(s.Right.Range, "icmp type %q cannot be imported", v)
				return
			}
			vs[i] = t
		}
		kw, _ := opWord("type", s)
		b.add(l.Proto + " " + kw + " " + strings.Join(vs, ", "))
		if !neg && len(vs) == 1 {
			b.icmpTypeAt = len(b.words) - 1
		}
	case key == "icmp code" || key == "icmpv6 code":
		// "icmp type T icmp code C" is fwc's "icmp type T/C".
		v, ok := nftValue(s.Right)
		prefix := l.Proto + " type "
		if !ok || neg || !uintIn(v, 0, 255) || len(b.words) == 0 || !strings.HasPrefix(b.words[len(b.words)-1], "") || b.icmpTypeAt < 0 {
			b.fail(l.Range, "%s without one icmp type before it has no fwc equivalent", key)
			return
		}
		w := b.words[b.icmpTypeAt]
		t := strings.TrimPrefix(w, prefix)
		if t == w || strings.ContainsAny(t, ", /") {
			b.fail(l.Range, "%s without one icmp type before it has no fwc equivalent", key)
			return
		}
		if n, err := strconv.Atoi(t); err == nil {
			t = strconv.Itoa(n)
		} else {
			for num, name := range fwcICMP[l.Proto] {
				if name == t {
					t = num
				}
			}
		}
		b.words[b.icmpTypeAt] = prefix + t + "/" + v
		b.icmpTypeAt = -1
	case key == "meta nfproto":
		v, ok := nftValue(s.Right)
		f := map[string]string{"ipv4": "ipv4", "ipv6": "ipv6"}[v]
		if !ok || f == "" {
			b.fail(s.Right.Range, "meta nfproto %s has no fwc equivalent", v)
			return
		}
		if neg {
			f = map[string]string{"ipv4": "ipv6", "ipv6": "ipv4"}[f]
		}
		b.family(f, l.Range, true)
	case key == "meta day":
		b.day(s)
	case key == "meta hour" || key == "meta time":
		b.clock(s, l.Name)
	case key == "ip6 nexthdr":
		b.fail(l.Range, "ip6 nexthdr tests the first header after IPv6's; fwc's proto is the transport protocol (meta l4proto)")
	case fieldKW[key] != "":
		kw := fieldKW[key]
		b.family(fieldFamily[key], l.Range, true)
		if key == "ip ttl" {
			b.family("ipv4", l.Range, false)
		}
		if key == "ip6 hoplimit" {
			b.family("ipv6", l.Range, false)
		}
		if (l.Name == "iif" || l.Name == "oif") && l.Proto == "meta" {
			// An interface index; written as a name it is the name the
			// interface had when the rule was loaded.
		}
		vs, info, ok := b.values(s.Right)
		if !ok {
			return
		}
		switch kw {
		case "proto":
			for i, v := range vs {
				w, ok := protoWords[strings.ToLower(v)]
				if v == "ipv6-icmp" {
					w, ok = "icmpv6", true
				}
				if !ok {
					b.fail(s.Right.Range, "protocol %q has no fwc name", v)
					return
				}
				vs[i] = w
			}
			if len(vs) == 1 && !neg && l4protos[vs[0]] {
				b.proto = vs[0]
			}
			if !neg && len(vs) > 1 && slices.Contains(vs, "icmp") && slices.Contains(vs, "icmpv6") {
				// fwc's icmp is IPv4's, icmpv6 IPv6's: one rule each.
				b.splitAt, b.splitProtos = len(b.words), vs
				b.add("proto", strings.Join(vs, ", "))
				return
			}
			if len(vs) == 1 && !neg && (vs[0] == "icmp" || vs[0] == "icmpv6") {
				b.family(map[string]string{"icmp": "ipv4", "icmpv6": "ipv6"}[vs[0]], l.Range, false)
			}
		case "iif", "oif":
			for i, v := range vs {
				if strings.HasPrefix(v, "@") {
					if info == nil || info.key != "iface" {
						b.fail(s.Right.Range, "set %s is not a set of interfaces", v)
						return
					}
					continue
				}
				if strings.HasSuffix(v, "\\*") {
					b.fail(s.Right.Range, "interface name %q cannot be written in fwc", v)
					return
				}
				if !ifaceRE.MatchString(v) {
					b.fail(s.Right.Range, "interface name %q cannot be written in fwc", v)
					return
				}
				vs[i] = v
			}
		case "ct state":
			for _, v := range vs {
				switch v {
				case "new", "established", "related", "invalid", "untracked":
				default:
					b.fail(s.Right.Range, "ct state %q cannot be imported", v)
					return
				}
			}
		case "ct status":
			for _, v := range vs {
				switch v {
				case "expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "dying":
				default:
					b.fail(s.Right.Range, "ct status %q cannot be imported", v)
					return
				}
			}
			if len(vs) > 1 && !s.Implicit {
				b.fail(s.Right.Range, "ct status with several values has no fwc equivalent")
				return
			}
		case "mark", "ct mark":
			for _, v := range vs {
				if strings.HasPrefix(v, "@") {
					if info == nil || info.key != "mark" {
						b.fail(s.Right.Range, "set %s is not a set of marks", v)
						return
					}
					continue
				}
				if _, err := strconv.ParseUint(v, 0, 32); err != nil {
					b.fail(s.Right.Range, "mark %q cannot be imported", v)
					return
				}
			}
		case "ct helper":
			for i, v := range vs {
				vs[i] = fwcString(v)
			}
		}
		if len(vs) > 1 && !s.Implicit && s.Right.Kind == nft.ExprList {
			// "ct state == a,b" compares the whole bit mask: not a list.
			b.fail(s.Right.Range, "%s == with several flags has no fwc equivalent", key)
			return
		}
		w, _ := opWord(kw, s)
		b.add(w, strings.Join(vs, ", "))
	default:
		b.fail(l.Range, "%s has no fwc equivalent", strings.TrimSpace(key))
	}
}

var nftDays = map[string]string{
	"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri", "saturday": "sat", "sunday": "sun",
	"1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "0": "sun",
}

// day: meta day NAME|NUMBER (0 is Sunday) is fwc's day.
func (b *nrb) day(s *nft.Stmt) {
	vs, _, ok := b.values(s.Right)
	if !ok {
		return
	}
	for i, v := range vs {
		d := nftDays[strings.ToLower(v)]
		if d == "" {
			b.fail(s.Right.Range, "meta day %q cannot be imported", v)
			return
		}
		vs[i] = d
	}
	kw, _ := opWord("day", s)
	b.add(kw, strings.Join(vs, ", "))
}

// clock: meta hour and meta time written as numbers (seconds since
// midnight UTC, since the epoch) are fwc's hour and date. Written as
// "HH:MM" or a date, nft reads them in the time zone of the process that
// loads the file, which the file does not say: refused.
func (b *nrb) clock(s *nft.Stmt, what string) {
	right := s.Right
	if lo, hi, ok := strings.Cut(right.Text, "-"); right.Kind == nft.ExprLit && !right.Quoted && ok {
		// "32400-68400" is one word of the text.
		right = &nft.Expr{Kind: nft.ExprRange, Args: []*nft.Expr{{Kind: nft.ExprLit, Text: lo}, {Kind: nft.ExprLit, Text: hi}}, Range: right.Range}
	}
	s = &nft.Stmt{Kind: s.Kind, Left: s.Left, Op: s.Op, Right: right, Range: s.Range}
	if s.Right.Kind != nft.ExprRange || s.Right.Args[0].Quoted || s.Right.Args[1].Quoted {
		b.fail(s.Right.Range, "meta %s other than a range of numbers has no fwc equivalent (nft reads times in the loading process's time zone)", what)
		return
	}
	lo, err1 := strconv.ParseInt(s.Right.Args[0].Text, 10, 64)
	hi, err2 := strconv.ParseInt(s.Right.Args[1].Text, 10, 64)
	if err1 != nil || err2 != nil || lo >= hi || lo < 0 {
		b.fail(s.Right.Range, "meta %s %s cannot be imported", what, s.Right.Args[0].Text)
		return
	}
	kw, _ := opWord(map[string]string{"hour": "hour", "time": "date"}[what], s)
	if what == "hour" {
		if hi > 86400 {
			b.fail(s.Right.Range, "meta hour past midnight cannot be imported")
			return
		}
		hms := func(x int64) string { return fmt.Sprintf("\"%02d:%02d:%02d\"", x/3600, x/60%60, x%60) }
		b.add(kw, hms(lo)+"-"+hms(hi))
		return
	}
	ds := func(x int64) string { return "\"" + time.Unix(x, 0).UTC().Format("2006-01-02T15:04:05") + "\"" }
	b.add(kw, ds(lo)+"-"+ds(hi))
}

// nftICMP checks an nft icmp type (a name fwc shares, or a number).
func nftICMP(proto, v string) (string, bool) {
	if _, err := strconv.ParseUint(v, 10, 8); err == nil {
		if n, ok := fwcICMP[proto][v]; ok {
			return n, true
		}
		return v, true
	}
	for _, n := range fwcICMP[proto] {
		if n == v {
			return v, true
		}
	}
	// nft names fwc spells differently.
	alias := map[string]map[string]string{
		"icmp":   {"info-request": "15", "info-reply": "16"},
		"icmpv6": {"mld-listener-reduction": "mld-listener-done", "mld2-listener-report": "143", "ind-neighbor-solicit": "141", "ind-neighbor-advert": "142", "router-renumbering": "138"},
	}
	if a, ok := alias[proto][v]; ok {
		return a, true
	}
	return "", false
}

var tcpFlagNames = map[string]bool{"fin": true, "syn": true, "rst": true, "psh": true, "ack": true, "urg": true, "ecn": true, "cwr": true}

// flagList reads tcp flags written a|b, a,b or { a, b } into "a|b".
func flagList(e *nft.Expr) (string, bool) {
	var parts []string
	var walk func(e *nft.Expr) bool
	walk = func(e *nft.Expr) bool {
		switch e.Kind {
		case nft.ExprLit:
			f := strings.ToLower(e.Text)
			if f == "ecn" {
				f = "ece"
			}
			if !tcpFlagNames[e.Text] && f != "ece" {
				if v, err := strconv.ParseUint(e.Text, 0, 8); err == nil && v == 0 {
					return true
				}
				return false
			}
			parts = append(parts, f)
			return true
		case nft.ExprBinop:
			if e.Op != "|" {
				return false
			}
			return walk(e.Args[0]) && walk(e.Args[1])
		case nft.ExprList:
			for _, a := range e.Args {
				if !walk(a) {
					return false
				}
			}
			return true
		}
		return false
	}
	if !walk(e) {
		return "", false
	}
	if len(parts) == 0 {
		return "none", true
	}
	return strings.Join(parts, "|"), true
}

const allTCPFlags = "fin|syn|rst|psh|ack|urg|ece|cwr"

// tcpFlags writes "tcp flags [!=] V / M"; mask "" is nft's implicit or
// whole-byte comparison.
func (b *nrb) tcpFlags(s *nft.Stmt, mask string, right *nft.Expr) {
	if s.Op != "==" && s.Op != "!=" {
		b.fail(s.Range, "tcp flags %s has no fwc equivalent", s.Op)
		return
	}
	if right.Kind == nft.ExprSet {
		b.fail(right.Range, "tcp flags in a set of values has no fwc equivalent")
		return
	}
	v, ok := flagList(right)
	if !ok {
		b.fail(right.Range, "tcp flags %q cannot be imported", "")
		return
	}
	if mask == "" {
		if s.Implicit {
			// "tcp flags syn": any of the bits. One bit: that bit set.
			if strings.Contains(v, "|") || v == "none" {
				b.fail(right.Range, "tcp flags naming several flags without a mask (any of them) has no fwc equivalent")
				return
			}
			mask = v
		} else {
			mask = allTCPFlags
		}
	}
	kw, _ := opWord("tcp flags", s)
	b.add(kw, v, "/", mask)
}

// maskedMatch is "FIELD & MASK == VALUE".
func (b *nrb) maskedMatch(s *nft.Stmt) {
	l := s.Left
	if l.Op != "&" || len(l.Args) != 2 || l.Args[0].Kind != nft.ExprField {
		b.fail(l.Range, "this expression has no fwc equivalent")
		return
	}
	f := l.Args[0]
	key := f.Proto + " " + f.Name
	switch key {
	case "tcp flags":
		m, ok := flagList(l.Args[1])
		if !ok {
			b.fail(l.Args[1].Range, "tcp flags mask cannot be imported")
			return
		}
		b.tcpFlags(s, m, s.Right)
	case "meta mark", "ct mark":
		m, ok1 := nftValue(l.Args[1])
		v, ok2 := nftValue(s.Right)
		mv, err1 := strconv.ParseUint(m, 0, 32)
		vv, err2 := strconv.ParseUint(v, 0, 32)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || vv&^mv != 0 {
			b.fail(s.Range, "this mark test cannot be imported")
			return
		}
		if s.Op != "==" && s.Op != "!=" {
			b.fail(s.Range, "this mark test cannot be imported")
			return
		}
		kw, _ := opWord(fieldKW[key], s)
		b.add(kw, hex(uint32(vv))+"/"+hex(uint32(mv)))
	default:
		b.fail(l.Range, "%s with a mask has no fwc equivalent", key)
	}
}

var concatKW = map[string]string{
	"ip saddr": "saddr", "ip daddr": "daddr", "ip6 saddr": "saddr", "ip6 daddr": "daddr",
	"meta iifname": "iif", "meta oifname": "oif", "meta mark": "mark", "ct mark": "ct mark",
}

// concatMatch is "ip saddr . tcp dport @set".
func (b *nrb) concatMatch(s *nft.Stmt) {
	if s.Right.Kind != nft.ExprSetRef || s.Op != "==" && s.Op != "!=" {
		b.fail(s.Range, "a concatenation matched against anything but a named set has no fwc equivalent")
		return
	}
	info := b.nc.sets[b.p.t][s.Right.Text]
	if info == nil || info.name == "" {
		b.fail(s.Right.Range, "set @%s has no fwc equivalent", s.Right.Text)
		return
	}
	var parts []string
	for _, a := range s.Left.Args {
		if a.Kind != nft.ExprField {
			b.fail(a.Range, "this part of the concatenation has no fwc equivalent")
			return
		}
		key := a.Proto + " " + a.Name
		switch {
		case concatKW[key] != "":
			parts = append(parts, concatKW[key])
			if a.Proto == "ip" || a.Proto == "ip6" {
				b.family(map[string]string{"ip": "ipv4", "ip6": "ipv6"}[a.Proto], a.Range, false)
			}
		case l4protos[a.Proto] && (a.Name == "dport" || a.Name == "sport"):
			parts = append(parts, a.Proto+" "+a.Name)
		default:
			b.fail(a.Range, "%s in a concatenation has no fwc equivalent", key)
			return
		}
	}
	w := strings.Join(parts, " . ")
	if s.Op == "!=" {
		w += " !="
	}
	b.add(w, "@"+info.name)
}

var nftLogLevels = map[string]bool{"emerg": true, "alert": true, "crit": true, "err": true, "warn": true, "notice": true, "info": true, "debug": true}

func (b *nrb) log(s *nft.Stmt) {
	w := []string{"log"}
	var flags []string
	for _, o := range s.Opts {
		switch o.Name {
		case "prefix":
			w = append(w, "prefix", fwcString(o.Value))
		case "level":
			if !nftLogLevels[o.Value] {
				b.fail(o.Range, "log level %s has no fwc equivalent", o.Value)
				return
			}
			w = append(w, "level", o.Value)
		case "flags":
			switch o.Value {
			case "tcp sequence":
				flags = append(flags, "tcp-sequence")
			case "tcp options":
				flags = append(flags, "tcp-options")
			case "tcp sequence,options", "tcp options,sequence":
				flags = append(flags, "tcp-sequence", "tcp-options")
			case "ip options":
				flags = append(flags, "ip-options")
			default:
				b.fail(o.Range, "log flags %s has no fwc equivalent", o.Value)
				return
			}
		default:
			b.fail(o.Range, "log %s has no fwc equivalent", o.Name)
			return
		}
	}
	if len(flags) > 0 {
		w = append(w, "flags", strings.Join(flags, ", "))
	}
	b.acts = append(b.acts, strings.Join(w, " "))
}

func (b *nrb) limitText(s *nft.Stmt) (string, bool) {
	if u, _ := s.Opt("unit"); u.Value != "packets" {
		b.fail(s.Range, "a limit in bytes has no fwc equivalent")
		return "", false
	}
	if _, named := s.Opt("name"); named {
		b.fail(s.Range, "a named limit object has no fwc equivalent")
		return "", false
	}
	rate, _ := s.Opt("rate")
	n, unit, _ := strings.Cut(rate.Value, "/")
	unit = map[string]string{"second": "second", "minute": "minute", "hour": "hour", "day": "day"}[unit]
	if !uintIn(n, 1, 1<<32-1) || unit == "" {
		b.fail(rate.Range, "limit rate %s cannot be imported", rate.Value)
		return "", false
	}
	w := "limit " + n + "/" + unit
	if _, over := s.Opt("over"); over {
		w = "limit over " + n + "/" + unit
	}
	if bu, ok := s.Opt("burst"); ok {
		if u, _ := s.Opt("burst-unit"); u.Value != "packets" || !uintIn(bu.Value, 1, 1<<32-1) {
			b.fail(bu.Range, "burst %s cannot be imported", bu.Value)
			return "", false
		}
		// 5 packets is nft's default burst (and fwc's); nft -j writes it,
		// nft list ruleset does not.
		if bu.Value != "5" {
			w += " burst " + bu.Value
		}
	}
	return w, true
}

var nftRejectV4 = map[string]string{
	"host-unreachable": "icmp-host-unreachable", "net-unreachable": "icmp-net-unreachable",
	"port-unreachable": "icmp-port-unreachable", "prot-unreachable": "icmp-proto-unreachable",
	"net-prohibited": "icmp-net-prohibited", "host-prohibited": "icmp-host-prohibited",
	"admin-prohibited": "icmp-admin-prohibited",
}

var nftRejectV6 = map[string]string{
	"no-route": "icmpv6-no-route", "admin-prohibited": "icmpv6-adm-prohibited",
	"addr-unreachable": "icmpv6-addr-unreachable", "port-unreachable": "icmpv6-port-unreachable",
}

func (b *nrb) reject(s *nft.Stmt) {
	t, _ := s.Opt("type")
	code, _ := s.Opt("code")
	switch t.Value {
	case "":
		b.acts = append(b.acts, "reject")
	case "tcp reset":
		if b.proto != "tcp" && !strings.Contains(strings.Join(b.words, " "), "tcp ") {
			b.fail(s.Range, "reject with tcp reset in a rule that does not match tcp only has no fwc equivalent")
			return
		}
		b.acts = append(b.acts, "reject with tcp-reset")
	case "icmp":
		w := nftRejectV4[code.Value]
		if w == "" {
			b.fail(code.Range, "reject with icmp %s has no fwc equivalent", code.Value)
			return
		}
		// In an inet table it rejects IPv4 only.
		b.family("ipv4", s.Range, true)
		b.acts = append(b.acts, "reject with "+w)
	case "icmpv6", "icmp6":
		w := nftRejectV6[code.Value]
		if w == "" {
			b.fail(code.Range, "reject with icmpv6 %s has no fwc equivalent", code.Value)
			return
		}
		b.family("ipv6", s.Range, true)
		b.acts = append(b.acts, "reject with "+w)
	case "icmpx":
		// fwc's dual-stack reject types are nft's icmpx ones.
		if w := map[string]string{"port-unreachable": "reject", "admin-prohibited": "reject with icmp-admin-prohibited", "host-unreachable": "reject with icmp-host-unreachable"}[code.Value]; w != "" {
			b.acts = append(b.acts, w)
			return
		}
		b.fail(code.Range, "reject with icmpx %s has no fwc equivalent", code.Value)
	default:
		b.fail(s.Range, "reject with %s has no fwc equivalent", t.Value)
	}
}

func (b *nrb) nat(s *nft.Stmt) {
	var flags []string
	for _, o := range s.Opts {
		if o.Name == "flag" {
			f := map[string]string{"random": "random", "fully-random": "random-fully", "persistent": "persistent"}[o.Value]
			if f == "" {
				b.fail(o.Range, "nat flag %s has no fwc equivalent", o.Value)
				return
			}
			flags = append(flags, f)
		}
	}
	to, hasTo := s.Opt("to")
	fo, _ := s.Opt("family")
	w := s.Name
	switch s.Name {
	case "snat", "dnat":
		if !hasTo {
			b.fail(s.Range, "%s without an address has no fwc equivalent", s.Name)
			return
		}
		fam := IPv4
		if strings.Count(to.Value, ":") > 1 || strings.HasPrefix(to.Value, "[") || fo.Value == "ip6" {
			fam = IPv6
		}
		t, ok := natTo(to.Value, fam)
		if !ok {
			b.fail(to.Range, "%s to %s cannot be imported", s.Name, to.Value)
			return
		}
		b.family(map[Family]string{IPv4: "ipv4", IPv6: "ipv6"}[fam], to.Range, false)
		w += " to " + t
	case "masquerade":
		if hasTo {
			b.fail(to.Range, "masquerade to ports has no fwc equivalent")
			return
		}
	case "redirect":
		if hasTo {
			p := strings.TrimPrefix(to.Value, ":")
			lo, hi, isRange := strings.Cut(p, "-")
			if !uintIn(lo, 0, 65535) || isRange && !uintIn(hi, 0, 65535) {
				b.fail(to.Range, "redirect to %s cannot be imported", to.Value)
				return
			}
			w += " to " + p
		}
	}
	if len(flags) > 0 {
		w += " " + strings.Join(flags, " ")
	}
	b.acts = append(b.acts, w)
}

func (b *nrb) mangle(s *nft.Stmt) {
	l, v := s.Left, s.Right
	if l.Kind != nft.ExprField {
		b.fail(l.Range, "this statement has no fwc equivalent")
		return
	}
	key := l.Proto + " " + l.Name
	field := func(e *nft.Expr) string {
		if e.Kind == nft.ExprField {
			return e.Proto + " " + e.Name
		}
		return ""
	}
	switch key {
	case "meta mark", "ct mark":
		act := map[string]string{"meta mark": "mark set", "ct mark": "connmark set"}[key]
		switch {
		case key == "ct mark" && field(v) == "meta mark":
			b.acts = append(b.acts, "connmark save")
			return
		case key == "meta mark" && field(v) == "ct mark":
			b.acts = append(b.acts, "connmark restore")
			return
		case v.Kind == nft.ExprLit:
			x, err := strconv.ParseUint(v.Text, 0, 32)
			if err != nil {
				break
			}
			b.acts = append(b.acts, act+" "+hex(uint32(x)))
			return
		case v.Kind == nft.ExprBinop && v.Op == "|" && v.Args[0].Kind == nft.ExprBinop && v.Args[0].Op == "&" && field(v.Args[0].Args[0]) == key:
			// FIELD set FIELD & A | V: the bits of ^A become V.
			a, ok1 := nftValue(v.Args[0].Args[1])
			x, ok2 := nftValue(v.Args[1])
			av, err1 := strconv.ParseUint(a, 0, 32)
			xv, err2 := strconv.ParseUint(x, 0, 32)
			m := ^uint32(av)
			if ok1 && ok2 && err1 == nil && err2 == nil && uint32(xv)&^m == 0 && m != 0 {
				b.acts = append(b.acts, act+" "+hex(uint32(xv))+"/"+hex(m))
				return
			}
		}
		b.fail(v.Range, "%s set to this value has no fwc equivalent", key)
	case "meta nftrace":
		if v.Kind == nft.ExprLit && v.Text == "1" {
			b.acts = append(b.acts, "trace")
			return
		}
		b.fail(v.Range, "meta nftrace set %s has no fwc equivalent", v.Text)
	case "ip dscp", "ip6 dscp":
		// fwc's tos set V writes the upper six bits of V as the dscp.
		if x, err := strconv.ParseUint(v.Text, 0, 8); v.Kind == nft.ExprLit && err == nil && x < 64 {
			b.family(map[string]string{"ip dscp": "ipv4", "ip6 dscp": "ipv6"}[key], l.Range, true)
			b.acts = append(b.acts, "tos set "+hex(uint32(x<<2)))
			return
		}
		b.fail(v.Range, "%s set %s has no fwc equivalent", key, v.Text)
	case "ip ttl", "ip6 hoplimit":
		if v.Kind == nft.ExprLit && uintIn(v.Text, 1, 255) {
			b.family(map[string]string{"ip ttl": "ipv4", "ip6 hoplimit": "ipv6"}[key], l.Range, true)
			b.acts = append(b.acts, "ttl set "+v.Text)
			return
		}
		b.fail(v.Range, "%s set %s has no fwc equivalent", key, v.Text)
	default:
		b.fail(l.Range, "%s set has no fwc equivalent", key)
	}
}

// dynset: "meter NAME { ip saddr limit rate over R }" and "update @NAME {
// ip saddr limit rate over R }" are fwc's meter; adding to a set is not.
func (b *nrb) dynset(s *nft.Stmt) {
	if s.Name == "add" && len(s.Stmts) == 1 && s.Stmts[0].Kind == nft.StmtMatch && s.Stmts[0].Left.Kind == nft.ExprField && s.Stmts[0].Left.Proto == "ct" && s.Stmts[0].Left.Name == "count" {
		b.connlimit(s)
		return
	}
	if s.Name != "meter" && s.Name != "update" || len(s.Stmts) != 1 || s.Stmts[0].Kind != nft.StmtLimit {
		b.fail(s.Range, "%s @%s { ... } (a set filled by the rule) has no fwc equivalent", s.Name, s.Set)
		return
	}
	if _, over := s.Stmts[0].Opt("over"); !over {
		b.fail(s.Range, "a meter that matches under its rate has no fwc equivalent (fwc's meter matches over it)")
		return
	}
	name := s.Set
	if s.Name == "update" {
		// fwc's own meters live in sets meter_NAME and meter6_NAME.
		for _, p := range []string{"meter6_", "meter_"} {
			if strings.HasPrefix(name, p) && len(name) > len(p) {
				name = name[len(p):]
				break
			}
		}
	}
	if !validName(name) {
		b.fail(s.Range, "meter name %q cannot be an fwc name", name)
		return
	}
	k := s.Left
	mask := ""
	if k.Kind == nft.ExprBinop && k.Op == "&" && len(k.Args) == 2 {
		m, ok := nftValue(k.Args[1])
		p, ok2 := parseAddr("0.0.0.0/" + m)
		if !ok || !ok2 {
			p, ok2 = parseAddr("::/" + m)
		}
		if !ok || !ok2 {
			b.fail(k.Range, "this meter key has no fwc equivalent")
			return
		}
		mask = " mask " + strconv.Itoa(p.Bits())
		k = k.Args[0]
	}
	per := ""
	if k.Kind == nft.ExprField {
		switch k.Proto + " " + k.Name {
		case "ip saddr", "ip6 saddr":
			per = "saddr"
		case "ip daddr", "ip6 daddr":
			per = "daddr"
		}
		b.family(map[string]string{"ip": "ipv4", "ip6": "ipv6"}[k.Proto], k.Range, true)
	}
	if per == "" {
		b.fail(k.Range, "a meter keyed by this has no fwc equivalent (fwc meters by saddr or daddr)")
		return
	}
	lt, ok := b.limitText(s.Stmts[0])
	if !ok {
		return
	}
	rate := strings.TrimPrefix(lt, "limit over ")
	b.add("meter", name, "per", per+mask, "over", rate)
}

// connlimit: "add @S { ip saddr [and MASK] ct count over N }" is fwc's
// connlimit over N [mask LEN] (the set only holds the counts).
func (b *nrb) connlimit(s *nft.Stmt) {
	c := s.Stmts[0]
	if c.Op != ">" || !uintIn(c.Right.Text, 1, 1<<32-1) {
		b.fail(c.Range, "ct count at most N has no fwc equivalent (fwc's connlimit matches over it)")
		return
	}
	k, mask := s.Left, ""
	if k.Kind == nft.ExprBinop && k.Op == "&" && len(k.Args) == 2 {
		m, _ := nftValue(k.Args[1])
		p, ok := parseAddr("0.0.0.0/" + m)
		if !ok {
			p, ok = parseAddr("::/" + m)
		}
		if !ok {
			b.fail(k.Range, "this connection count key has no fwc equivalent")
			return
		}
		mask = " mask " + strconv.Itoa(p.Bits())
		k = k.Args[0]
	}
	if k.Kind != nft.ExprField || k.Name != "saddr" || k.Proto != "ip" && k.Proto != "ip6" {
		b.fail(k.Range, "a connection count keyed by this has no fwc equivalent (fwc's connlimit counts per saddr)")
		return
	}
	b.family(map[string]string{"ip": "ipv4", "ip6": "ipv6"}[k.Proto], k.Range, true)
	b.add("connlimit over " + c.Right.Text + mask)
}

// vmap expands "KEY vmap { k1 : v1, k2 : v2 }" into one rule per element.
// It is exact because a map's keys do not overlap, and a key that a
// jumped-to chain could change (a mark) is refused. What follows a vmap in
// its rule never runs: a key that is not in the map ends the rule as a
// failed match does, and one that is ends it with its verdict (a jump
// returns to the next rule).
func (b *nrb) vmap(s *nft.Stmt, before []*nft.Stmt) {
	for _, x := range before {
		switch x.Kind {
		case nft.StmtMatch, nft.StmtCounter:
		default:
			b.fail(x.Range, "a statement with an effect before a vmap has no fwc equivalent")
			return
		}
	}
	var elems []*nft.Expr
	switch s.Right.Kind {
	case nft.ExprSet:
		elems = s.Right.Args
	case nft.ExprSetRef:
		info := b.nc.sets[b.p.t][s.Right.Text]
		if info == nil || info.vmap == nil {
			b.fail(s.Right.Range, "vmap @%s: not a constant verdict map of the table", s.Right.Text)
			return
		}
		elems = info.vmap.Elements
	default:
		b.fail(s.Right.Range, "this vmap has no fwc equivalent")
		return
	}
	if s.Left.Kind == nft.ExprField && (s.Left.Name == "mark") {
		b.fail(s.Left.Range, "a vmap on a mark has no fwc equivalent (a jumped-to chain may change it)")
		return
	}
	var out []string
	for _, e := range elems {
		if e.Kind != nft.ExprMapElem || e.Args[1].Kind != nft.ExprVerdict {
			b.fail(e.Range, "a vmap element without a verdict")
			return
		}
		sub := *b
		sub.words = append([]string{}, b.words...)
		sub.acts = append([]string{}, b.acts...)
		sub.match(&nft.Stmt{Kind: nft.StmtMatch, Left: s.Left, Op: "==", Right: e.Args[0], Range: e.Range})
		v := e.Args[1]
		sub.stmt(&nft.Stmt{Kind: nft.StmtVerdict, Verdict: v.Text, Target: v.Name, Range: v.Range})
		if sub.failed {
			b.failed = true
			return
		}
		out = append(out, sub.text())
	}
	if len(out) == 0 {
		b.fail(s.Range, "an empty vmap")
		return
	}
	b.expanded = out
}
