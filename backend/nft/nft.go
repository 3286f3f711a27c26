// Package nft writes an ir.Ruleset as an nft script for `nft -f`: one
// `inet` table named fwc that holds every chain and set fwc owns, replaced
// in one transaction (`table inet fwc {}`, `delete table inet fwc`, then the
// definition), so other tables on the host are never touched and the script
// works whether or not the table exists.
//
// It is one of fwc's two backends (see also backend/restore) and reads
// only the ir. Before printing it runs ir.Merge, so runs of three or more
// rules that differ in one field become anonymous-set lookups or verdict
// maps (a pair stays two rules: each anonymous set costs the kernel a walk
// of the whole transaction when it loads), and a port list that many rules
// repeat becomes one named set (share.go). Every
// rule carries `comment "file:line"`. A construct nft cannot express (a
// payload string match, a partial-mask connmark copy: package limits, the
// table the checker reports from too) is an error diagnostic FW1901 or
// FW1904, in the text and the netlink batch alike, never a different rule
// or a comment; FW2001 is the emitters' last guard for what limits lets
// through and they cannot write, a bug.
//
// Times of day and dates (meta hour, meta time) are written as numbers
// (seconds since midnight UTC, seconds since the epoch), which nft stores
// without converting them from its local time zone: the text means the
// policy's UTC times whatever TZ nft runs under. nft lists them back as
// local times.
package nft

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/limits"
	"github.com/fwcproject/fwc/policy"
)

func init() {
	diag.Register(diag.Doc{
		Code:     "FW2001",
		Title:    "nft cannot express this",
		Severity: diag.Error,
		Doc: `The nft backend (fwc translate --to nft, fwc apply) found a construct
it cannot write with the same meaning, which the checker did not refuse.
What nft cannot express is reported by fwc check as FW1901 or FW1904 (with
--backend nft, as errors), and the backend refuses the rule with that same
diagnostic; this code means the two disagree, a bug in fwc: please report
it with the policy. fwc does not emit a rule that would behave differently,
nor a comment in its place. Rewrite the rule, or use the iptables backend.`,
	})
}

// Table is the name of the inet table fwc owns.
const Table = "fwc"

// Prepared is a ruleset made ready for nft: merged (ir.Merge: runs of rules
// into anonymous sets and verdict maps) and with the port lists that many
// rules repeat shared as named sets (share.go). Text and Messages of one
// Prepared emit the same ruleset, so a command that needs both (apply: the
// script for the plan and the record, the batch for the kernel) merges
// once.
type Prepared struct {
	rs *ir.Ruleset // merged
	sh *shared
}

// Prepare merges rs and finds its shared port lists. rs is not changed.
func Prepare(rs *ir.Ruleset) *Prepared {
	m := ir.Merge(rs)
	return &Prepared{rs: m, sh: share(m)}
}

// Text returns the nft script for rs (Prepare(rs).Text()).
func Text(rs *ir.Ruleset) ([]byte, diag.Diagnostics) { return Prepare(rs).Text() }

// Text returns the nft script, and an FW2001 error for each rule nft
// cannot express (those rules are left out of the script).
func (pr *Prepared) Text() ([]byte, diag.Diagnostics) {
	p := &printer{sh: pr.sh}
	// About 100 bytes a rule: grow once rather than copy the script over
	// and over while it grows.
	p.b.Grow(4096 + 128*pr.RuleCount())
	p.ruleset(pr.rs)
	return p.b.Bytes(), p.diags
}

// RuleCount returns how many rules Text emits for rs, after merging.
func RuleCount(rs *ir.Ruleset) int { return Prepare(rs).RuleCount() }

// RuleCount returns how many rules Text emits, after merging.
func (pr *Prepared) RuleCount() int {
	n := 0
	for _, t := range pr.rs.Tables {
		for _, c := range t.Chains {
			n += len(c.Rules)
		}
	}
	return n
}

type printer struct {
	b     bytes.Buffer
	diags diag.Diagnostics
	parts []string // scratch for rule
	sh    *shared
}

// ChainName is the nft name of c: table and policy name, filter_input.
func ChainName(c *ir.Chain) string { return c.Table.Name + "_" + c.Name }

func (p *printer) ruleset(rs *ir.Ruleset) {
	fmt.Fprintf(&p.b, "table inet %s {}\ndelete table inet %s\ntable inet %s {\n", Table, Table, Table)
	for _, s := range p.sh.allSets(rs) {
		p.set(s)
	}
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			p.chain(c)
		}
	}
	p.b.WriteString("}\n")
}

var stdPriority = map[string]int{"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}

func priority(c *ir.Chain) string {
	// nft accepts dstnat only at prerouting and srcnat only at
	// postrouting; nat input and output get numbers.
	name := c.Table.Name
	if name == "nat" {
		name = map[policy.Hook]string{policy.Prerouting: "dstnat", policy.Postrouting: "srcnat"}[c.Hook]
	}
	if v, ok := stdPriority[name]; ok && v == c.Priority {
		return name
	}
	return strconv.Itoa(c.Priority)
}

func (p *printer) chain(c *ir.Chain) {
	fmt.Fprintf(&p.b, "\tchain %s {\n", ChainName(c))
	if c.IsBase() {
		pol := "accept"
		if c.Policy == policy.Drop {
			pol = "drop"
		}
		fmt.Fprintf(&p.b, "\t\ttype %s hook %s priority %s; policy %s;\n", c.Type, c.Hook, priority(c), pol)
	}
	for _, r := range c.Rules {
		p.rule(r)
	}
	p.b.WriteString("\t}\n")
}

func setType(t policy.SetType) string {
	switch t {
	case policy.IPv4Addr, policy.IPv4Net:
		return "ipv4_addr"
	case policy.IPv6Addr, policy.IPv6Net:
		return "ipv6_addr"
	case policy.PortType:
		return "inet_service"
	case policy.IfaceT:
		return "ifname"
	case policy.MarkT:
		return "mark"
	}
	return string(t)
}

// Duration formats d the way nft reads it: 3d, 1h30m, 45s.
func Duration(d time.Duration) string {
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.s)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "1s"
	}
	return b.String()
}

func (p *printer) set(s *ir.Set) {
	fmt.Fprintf(&p.b, "\tset %s {\n", s.Name)
	var ts []string
	for _, t := range s.Type {
		ts = append(ts, setType(t))
	}
	fmt.Fprintf(&p.b, "\t\ttype %s\n", strings.Join(ts, " . "))
	var flags []string
	hasElemTimeout := false
	for _, e := range s.Elements {
		hasElemTimeout = hasElemTimeout || e.Timeout > 0
	}
	if s.Interval {
		flags = append(flags, "interval")
	}
	if s.Dynamic {
		flags = append(flags, "dynamic")
	}
	if s.Timeout > 0 || hasElemTimeout {
		flags = append(flags, "timeout")
	}
	if flags != nil {
		fmt.Fprintf(&p.b, "\t\tflags %s\n", strings.Join(flags, ","))
	}
	if s.Timeout > 0 {
		fmt.Fprintf(&p.b, "\t\ttimeout %s\n", Duration(s.Timeout))
	}
	if s.Size > 0 {
		fmt.Fprintf(&p.b, "\t\tsize %d\n", s.Size)
	} else if s.Dynamic {
		p.b.WriteString("\t\tsize 65535\n")
	}
	if len(s.Elements) > 0 {
		p.b.WriteString("\t\telements = { ")
		for i, e := range s.Elements {
			if i > 0 {
				p.b.WriteString(",\n\t\t\t     ")
			}
			var parts []string
			for j, v := range e.Parts {
				if j < len(s.Type) {
					parts = append(parts, value(s.Type[j], v))
				}
			}
			p.b.WriteString(strings.Join(parts, " . "))
			if e.Timeout > 0 {
				p.b.WriteString(" timeout " + Duration(e.Timeout))
			}
		}
		p.b.WriteString(" }\n")
	}
	p.b.WriteString("\t}\n")
}

func value(t policy.SetType, v policy.SetValue) string {
	switch t {
	case policy.IPv4Addr, policy.IPv6Addr, policy.IPv4Net, policy.IPv6Net:
		return ir.AddrString(v.Addr)
	case policy.PortType:
		return strconv.Itoa(int(v.Port))
	case policy.IfaceT:
		return strconv.Quote(v.Iface)
	case policy.MarkT:
		return fmt.Sprintf("0x%08x", v.Mark)
	}
	return ""
}

// Quote makes an nft string; nft strings cannot hold a double quote.
func Quote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `'`) + `"`
}

// subject is the range a diagnostic about r points at when the construct
// it is about has no source of its own.
func subject(r *ir.Rule) diag.Range {
	if len(r.Pos) > 0 {
		return r.Pos[0].Subject()
	}
	return diag.Range{}
}

// refused adds to ds what nft cannot express in r, as the checker reports
// it (package limits is the one table of it, for the text, the netlink
// batch and check), and reports whether there was any: then r is left out.
func refused(ds *diag.Diagnostics, r *ir.Rule) bool {
	fs := limits.NftRefuses(limits.Rule{Family: policy.Family(r.Family), Conds: r.Matches, Actions: r.Actions})
	for _, f := range fs {
		*ds = append(*ds, f.Diagnostic(diag.Error, subject(r), limits.Nft))
	}
	return len(fs) > 0
}

// errorf is the printer's last guard, FW2001, for a construct that limits
// does not refuse and the printer still cannot write: a bug in fwc.
func (p *printer) errorf(r *ir.Rule, format string, args ...any) {
	p.diags.Add(diag.Error, "FW2001", subject(r), "nft cannot express "+fmt.Sprintf(format, args...), "")
}

// rule prints r as a line of the chain, or nothing (and a diagnostic) if
// nft cannot express it.
func (p *printer) rule(r *ir.Rule) {
	if refused(&p.diags, r) {
		return
	}
	parts := p.parts[:0]
	if r.Family != ir.Both && !impliesFamily(r) {
		parts = append(parts, "meta nfproto "+nfproto(r.Family))
	}
	ok := true
	for _, m := range r.Matches {
		if skipProto(r, m) {
			continue
		}
		s, good := p.match(r, m)
		ok = ok && good
		if s != "" {
			parts = append(parts, s)
		}
	}
	for _, a := range r.Actions {
		s, good := p.action(r, a)
		ok = ok && good
		if s != "" {
			parts = append(parts, s)
		}
	}
	p.parts = parts
	if !ok {
		return
	}
	p.b.WriteString("\t\t")
	for i, s := range parts {
		if i > 0 {
			p.b.WriteByte(' ')
		}
		p.b.WriteString(s)
	}
	if c := r.Comment(128); c != "" {
		if len(parts) > 0 {
			p.b.WriteByte(' ')
		}
		p.b.WriteString("comment ")
		p.b.WriteString(Quote(c))
	}
	p.b.WriteByte('\n')
}

func nfproto(f ir.Family) string {
	if f == ir.IPv4 {
		return "ipv4"
	}
	return "ipv6"
}

func ipKw(f ir.Family) string {
	if f == ir.IPv6 {
		return "ip6"
	}
	return "ip"
}

// impliesFamily reports whether a match of r already names the address
// family (ip saddr, icmp type ...), so no meta nfproto is needed.
func impliesFamily(r *ir.Rule) bool {
	ms := r.Matches
	for _, a := range r.Actions {
		if vm, ok := a.(*ir.VerdictMap); ok {
			ms = append(ms[:len(ms):len(ms)], vm.Key)
		}
	}
	for _, m := range ms {
		switch m := m.(type) {
		case *policy.AddrCond, *policy.ICMPCond, *ir.Meter, *ir.Connlimit:
			return true
		case *policy.ConcatCond:
			for _, k := range m.Keys {
				if k == policy.KeySaddr || k == policy.KeyDaddr {
					return true
				}
			}
		}
	}
	return false
}

// skipProto drops a single positive protocol match that another match of
// the rule implies (tcp dport, tcp flags, icmp type).
func skipProto(r *ir.Rule, m policy.Cond) bool {
	pm, ok := m.(*policy.ProtoCond)
	if !ok || pm.Neg || len(pm.Protos) != 1 {
		return false
	}
	pr := pm.Protos[0]
	for _, o := range r.Matches {
		switch o := o.(type) {
		case *policy.PortCond:
			if r.PortProto() == pr {
				return true
			}
		case *policy.TCPFlagsCond:
			if pr == policy.ProtoTCP {
				return true
			}
		case *policy.ICMPCond:
			if (pr == policy.ProtoICMP && !o.V6) || (pr == policy.ProtoICMPv6 && o.V6) {
				return true
			}
		case *policy.ConcatCond:
			for _, k := range o.Keys {
				if r.PortProto() == pr && (k == policy.KeySport || k == policy.KeyDport) {
					return true
				}
			}
		}
	}
	return false
}
