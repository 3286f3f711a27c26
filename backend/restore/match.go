package restore

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

func neg(n bool) string {
	if n {
		return "! "
	}
	return ""
}

func dirFlag(d policy.Dir) string {
	if d == policy.Src {
		return "src"
	}
	return "dst"
}

func (w *writer) match(r *ir.Rule, m policy.Cond) condText {
	switch m := m.(type) {
	case *policy.AddrCond:
		return w.addr(r, m)
	case *policy.ProtoCond:
		var alts []string
		for _, p := range m.Protos {
			alts = append(alts, "-p "+p.Name())
		}
		return oneOf(m.Neg, alts)
	case *policy.PortCond:
		return w.port(r, m)
	case *policy.IfaceCond:
		flag := "-i "
		if m.Dir == policy.Dst {
			flag = "-o "
		}
		ifs := m.Ifaces
		if m.Set != nil {
			if len(m.Set.Elements) == 0 {
				if m.Neg {
					return condText{}
				}
				return condText{args: never}
			}
			ifs = nil
			for _, e := range m.Set.Elements {
				ifs = append(ifs, policy.Iface{Name: e.Parts[0].Iface})
			}
		}
		var alts []string
		for _, i := range ifs {
			n := i.Name
			if i.Wildcard {
				n += "+"
			}
			alts = append(alts, flag+n)
		}
		return oneOf(m.Neg, alts)
	case *policy.ICMPCond:
		pre := "-p icmp -m icmp --icmp-type "
		if m.V6 {
			pre = "-p ipv6-icmp -m icmp6 --icmpv6-type "
		}
		if p := singleProto(r); p == policy.ProtoICMP || p == policy.ProtoICMPv6 {
			pre = pre[len("-p icmp "):]
			if m.V6 {
				pre = "-m icmp6 --icmpv6-type "
			}
		}
		names := icmpNames
		if m.V6 {
			names = icmpv6Names
		}
		var alts []string
		for _, t := range m.Types {
			s := names[t.Name]
			if s == "" || t.Code >= 0 {
				s = strconv.Itoa(int(t.Type))
				if t.Code >= 0 {
					s += "/" + strconv.Itoa(t.Code)
				}
			}
			alts = append(alts, pre+s)
		}
		if m.Neg && len(alts) == 1 {
			i := strings.LastIndex(alts[0], "--icmp")
			return condText{args: alts[0][:i] + "! " + alts[0][i:]}
		}
		return oneOf(m.Neg, alts)
	case *policy.TCPFlagsCond:
		if (m.Mask|m.Flags)&^allFlags != 0 {
			w.errorf(r, "these tcp flags (limits.IPTablesRefuses lets it through)")
			return condText{}
		}
		return condText{args: fmt.Sprintf("-m tcp %s--tcp-flags %s %s", neg(m.Neg), tcpFlags(m.Mask), tcpFlags(m.Flags))}
	case *policy.CtStateCond:
		return condText{args: "-m conntrack " + neg(m.Neg) + "--ctstate " + ctState(m.Bits)}
	case *policy.CtStatusCond:
		return w.ctStatus(r, m)
	case *policy.MarkCond:
		mod := "mark"
		if m.Ct {
			mod = "connmark"
		}
		if m.Set != nil {
			return markSet(mod, m)
		}
		return condText{args: fmt.Sprintf("-m %s %s--mark %s", mod, neg(m.Neg), markMask(m.Value, m.Mask))}
	case *policy.LimitCond:
		if m.Over {
			w.nlimit++
			return condText{stateful: true, args: fmt.Sprintf("-m hashlimit --hashlimit-above %s --hashlimit-burst %d --hashlimit-name fwc_limit_%d",
				rate(m.Rate), burst(m.Burst), w.nlimit)}
		}
		return condText{stateful: true, args: fmt.Sprintf("-m limit --limit %s --limit-burst %d", rate(m.Rate), burst(m.Burst))}
	case *ir.Meter:
		var b strings.Builder
		op := "upto"
		if m.Over {
			op = "above"
		}
		fmt.Fprintf(&b, "-m hashlimit --hashlimit-%s %s --hashlimit-burst %d --hashlimit-mode %sip", op, rate(m.Rate), burst(m.Burst), dirFlag(m.Per))
		if m.MaskLen >= 0 {
			fmt.Fprintf(&b, " --hashlimit-%smask %d", dirFlag(m.Per), m.MaskLen)
		}
		fmt.Fprintf(&b, " --hashlimit-name %s", hashlimitName(m.Name))
		return condText{stateful: true, args: b.String()}
	case *ir.Connlimit:
		op := "upto"
		if m.Over {
			op = "above"
		}
		s := fmt.Sprintf("-m connlimit --connlimit-%s %d", op, m.Count)
		if m.MaskLen >= 0 {
			s += fmt.Sprintf(" --connlimit-mask %d", m.MaskLen)
		}
		return condText{stateful: true, args: s + " --connlimit-saddr"}
	case *policy.TimeCond:
		s := timeArgs(m)
		if m.Neg {
			return condText{excl: []string{s}}
		}
		return condText{args: s}
	case *policy.ProbCond:
		return condText{stateful: true, args: "-m statistic --mode random --probability " + ir.FormatProbability(m.P)}
	case *policy.FieldCond:
		return w.field(r, m)
	case *policy.StringCond:
		algo := m.Algo
		if algo == "" {
			algo = "bm"
		}
		return condText{args: fmt.Sprintf("-m string --algo %s %s--string %s", algo, neg(m.Neg), Quote(m.Text))}
	case *policy.ConcatCond:
		var flags []string
		for _, k := range m.Keys {
			switch k {
			case policy.KeySaddr, policy.KeySport, policy.KeyIif:
				flags = append(flags, "src")
			default:
				flags = append(flags, "dst")
			}
		}
		if _, ok := w.sets.typ[m.Set.Name]; !ok {
			w.errorf(r, "a lookup in set %s (limits.IPTablesRefuses lets it through)", m.Set.Name)
			return condText{}
		}
		return condText{args: fmt.Sprintf("-m set %s--match-set %s %s", neg(m.Neg), m.Set.Name, strings.Join(flags, ","))}
	}
	w.errorf(r, "match %T", m)
	return condText{}
}

// never is a match no packet passes: every mark is 0 under the mask 0. It
// stands for a lookup in an empty set.
const never = "-m mark ! --mark 0x0/0x0"

// markSet renders a lookup in a set of marks, which ipset cannot hold
// alone: one alternative per element, or one exclusion per element when
// negated. An empty set matches no packet (negated, every packet).
func markSet(mod string, m *policy.MarkCond) condText {
	var alts []string
	for _, e := range m.Set.Elements {
		alts = append(alts, fmt.Sprintf("-m %s --mark 0x%x", mod, e.Parts[0].Mark))
	}
	switch {
	case len(alts) == 0 && m.Neg:
		return condText{}
	case len(alts) == 0:
		return condText{args: never}
	case len(alts) == 1 && m.Neg:
		return condText{args: fmt.Sprintf("-m %s ! --mark 0x%x", mod, m.Set.Elements[0].Parts[0].Mark)}
	}
	return oneOf(m.Neg, alts)
}

// oneOf renders a list: one alternative as plain args (negated with !),
// several as alternatives, or as exclusions when negated.
func oneOf(n bool, alts []string) condText {
	if len(alts) == 1 {
		if n {
			return condText{args: "! " + alts[0]}
		}
		return condText{args: alts[0]}
	}
	if n {
		return condText{excl: alts}
	}
	return condText{alts: alts}
}

func (w *writer) addr(r *ir.Rule, m *policy.AddrCond) condText {
	if m.Set != nil {
		return condText{args: "-m set " + neg(m.Neg) + "--match-set " + m.Set.Name + " " + dirFlag(m.Dir)}
	}
	if gs := w.sets.gen[m]; gs != nil {
		return condText{args: "-m set " + neg(m.Neg) + "--match-set " + gs.Name + " " + dirFlag(m.Dir)}
	}
	flag := "-s "
	if m.Dir == policy.Dst {
		flag = "-d "
	}
	if len(m.Items) == 1 && (m.Items[0].IsRange() || w.flagTaken(r, m)) {
		// iptables takes one -s and one -d per rule; a second address
		// match of a direction (a negated one: ir folds positive ones)
		// is written as a range.
		lo, hi := ir.Bounds(m.Items[0])
		return condText{args: fmt.Sprintf("-m iprange %s--%s-range %s-%s", neg(m.Neg), dirFlag(m.Dir), lo, hi)}
	}
	// Only positive lists of prefixes reach here (see planSets).
	if len(m.Items) == 1 {
		return condText{args: neg(m.Neg) + flag + ir.AddrString(m.Items[0])}
	}
	var s []string
	for _, it := range m.Items {
		s = append(s, ir.AddrString(it))
	}
	return condText{args: neg(m.Neg) + flag + strings.Join(s, ",")}
}

// flagTaken reports whether an earlier address match of r in m's
// direction is written with -s or -d.
func (w *writer) flagTaken(r *ir.Rule, m *policy.AddrCond) bool {
	for _, o := range r.Matches {
		if o == policy.Cond(m) {
			return false
		}
		a, ok := o.(*policy.AddrCond)
		if ok && a.Dir == m.Dir && a.Set == nil && w.sets.gen[a] == nil &&
			!(len(a.Items) == 1 && (a.Items[0].IsRange() || w.flagTaken(r, a))) {
			return true
		}
	}
	return false
}

func (w *writer) port(r *ir.Rule, m *policy.PortCond) condText {
	proto := r.PortProto()
	if proto == 0 {
		w.errorf(r, "a port match without one port protocol")
		return condText{}
	}
	if m.Set != nil {
		return condText{args: fmt.Sprintf("-m set %s--match-set %s %s", neg(m.Neg), m.Set.Name, dirFlag(m.Dir))}
	}
	p := proto.Name()
	// udplite has no match of its own (-m udplite does not exist);
	// multiport knows it, as it knows tcp, udp, sctp and dccp.
	if len(m.Ranges) == 1 && proto != policy.ProtoUDPLite {
		return condText{args: "-m " + p + " " + neg(m.Neg) + "--" + dirFlag(m.Dir)[:1] + "port " + portRange(m.Ranges[0])}
	}
	// multiport takes 15 ports, a range counting as two.
	var groups [][]string
	var cur []string
	n := 0
	for _, pr := range m.Ranges {
		c := 1
		if pr.Lo != pr.Hi {
			c = 2
		}
		if n+c > 15 {
			groups = append(groups, cur)
			cur, n = nil, 0
		}
		cur = append(cur, portRange(pr))
		n += c
	}
	groups = append(groups, cur)
	var alts []string
	for _, g := range groups {
		alts = append(alts, "-m multiport "+neg(m.Neg)+"--"+dirFlag(m.Dir)[:1]+"ports "+strings.Join(g, ","))
	}
	if m.Neg {
		// not in any group: all the negated matches in one rule.
		return condText{args: strings.Join(alts, " ")}
	}
	if len(alts) == 1 {
		return condText{args: alts[0]}
	}
	return condText{alts: alts}
}

func portRange(p policy.PortRange) string {
	if p.Lo == p.Hi {
		return strconv.Itoa(int(p.Lo))
	}
	return strconv.Itoa(int(p.Lo)) + ":" + strconv.Itoa(int(p.Hi))
}

var flagNames = []string{"FIN", "SYN", "RST", "PSH", "ACK", "URG"}

// allFlags is what iptables calls ALL: FIN through URG.
const allFlags = 0x3f

func tcpFlags(b uint8) string {
	if b == allFlags {
		return "ALL"
	}
	var s []string
	for i, n := range flagNames {
		if b&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	if len(s) == 0 {
		return "NONE"
	}
	return strings.Join(s, ",")
}

func ctState(bits uint32) string {
	var s []string
	for i, n := range []string{"INVALID", "ESTABLISHED", "RELATED", "NEW", "UNTRACKED"} {
		if bits&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, ",")
}

func (w *writer) ctStatus(r *ir.Rule, m *policy.CtStatusCond) condText {
	status := map[uint32]string{policy.StatusExpected: "EXPECTED", policy.StatusSeenReply: "SEEN_REPLY",
		policy.StatusAssured: "ASSURED", policy.StatusConfirmed: "CONFIRMED"}
	state := map[uint32]string{policy.StatusSNAT: "SNAT", policy.StatusDNAT: "DNAT"}
	var st, ss []string
	for bit := uint32(1); bit <= policy.StatusDying; bit <<= 1 {
		if m.Bits&bit == 0 {
			continue
		}
		if n, ok := status[bit]; ok {
			st = append(st, n)
		} else if n, ok := state[bit]; ok {
			ss = append(ss, n)
		} else {
			w.errorf(r, "this ct status (limits.IPTablesRefuses lets it through)")
			return condText{}
		}
	}
	switch {
	case st != nil && ss != nil:
		w.errorf(r, "this ct status (limits.IPTablesRefuses lets it through)")
		return condText{}
	case ss != nil:
		return condText{args: "-m conntrack " + neg(m.Neg) + "--ctstate " + strings.Join(ss, ",")}
	}
	return condText{args: "-m conntrack " + neg(m.Neg) + "--ctstatus " + strings.Join(st, ",")}
}

func markMask(v, m uint32) string {
	if m == 0xffffffff {
		return fmt.Sprintf("0x%x", v)
	}
	return fmt.Sprintf("0x%x/0x%x", v, m)
}

// rate writes a rate with the unit names iptables-save prints (1/sec,
// 10/min), so that rules read back unchanged.
func rate(r policy.Rate) string {
	unit := "sec"
	switch r.Unit {
	case time.Minute:
		unit = "min"
	case time.Hour:
		unit = "hour"
	case 24 * time.Hour:
		unit = "day"
	}
	return fmt.Sprintf("%d/%s", r.Count, unit)
}

func burst(b uint32) uint32 {
	if b == 0 {
		return 5
	}
	return b
}

// hashlimitName fits a meter name into hashlimit's 15 bytes.
func hashlimitName(n string) string {
	if len(n) <= 15 {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(n))
	return fmt.Sprintf("%s%08x", n[:7], h.Sum32())
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func timeArgs(m *policy.TimeCond) string {
	s := []string{"-m time"}
	if m.HasHour {
		s = append(s, "--timestart "+clock(m.HourFrom), "--timestop "+clock(m.HourTo))
	}
	if m.Days != 0 {
		var d []string
		for i, n := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
			if m.Days&(1<<i) != 0 {
				d = append(d, n)
			}
		}
		s = append(s, "--weekdays "+strings.Join(d, ","))
	}
	if m.HasDate {
		s = append(s, "--datestart "+m.DateFrom.UTC().Format("2006-01-02T15:04:05"),
			"--datestop "+m.DateTo.UTC().Format("2006-01-02T15:04:05"))
	}
	return strings.Join(s, " ")
}

// icmpNames maps canonical (nft) icmp type names to the names iptables
// knows; other types are written as numbers.
var icmpNames = map[string]string{
	"echo-reply": "echo-reply", "destination-unreachable": "destination-unreachable",
	"source-quench": "source-quench", "redirect": "redirect", "echo-request": "echo-request",
	"router-advertisement": "router-advertisement", "router-solicitation": "router-solicitation",
	"time-exceeded": "time-exceeded", "parameter-problem": "parameter-problem",
	"timestamp-request": "timestamp-request", "timestamp-reply": "timestamp-reply",
	"address-mask-request": "address-mask-request", "address-mask-reply": "address-mask-reply",
}

// icmpv6Names does the same for icmpv6, whose neighbour discovery names
// differ between nft and ip6tables.
var icmpv6Names = map[string]string{
	"destination-unreachable": "destination-unreachable", "packet-too-big": "packet-too-big",
	"time-exceeded": "time-exceeded", "parameter-problem": "parameter-problem",
	"echo-request": "echo-request", "echo-reply": "echo-reply",
	"nd-router-solicit": "router-solicitation", "nd-router-advert": "router-advertisement",
	"nd-neighbor-solicit": "neighbour-solicitation", "nd-neighbor-advert": "neighbour-advertisement",
	"nd-redirect": "redirect",
}
