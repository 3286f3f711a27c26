package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/convert"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim"
	"github.com/fwcproject/fwc/sim/packet"
)

// packetName is the file name diagnostics give the PACKET argument.
const packetName = "PACKET"

func newTraceCmd(e *env) *cobra.Command {
	var (
		asJSON, merged, live bool
		locals               []string
		netns                string
	)
	cmd := &cobra.Command{
		Use:   "trace [--json] [--merged] [--local ADDR]... POLICY PACKET | --live [--netns NS] PACKET",
		Short: "Show the way of one packet through a policy, hook by hook, offline",
		Long: `Trace walks one packet through the policy as the kernel would, without a
kernel, and prints its way: each hook in order (prerouting, the routing
decision, input or forward, output, postrouting) and on each the base
chains of every table by priority (raw, mangle, nat, filter), every rule
that matched with its file:line and source text, jumps and returns, marks
set, each NAT rewrite (dnat and redirect before the routing decision, snat
and masquerade in postrouting), the routing table a policy route chose by
the packet's mark, where the packet leaves, and on the last line the
verdict: "verdict: accept", "verdict: drop" or "verdict: reject". A
condition a concrete packet cannot decide (a rate limit, a time of day)
forks the walk: each way is printed, and the last line says "verdict:
undecided (...)".

POLICY is a policy file or directory (one policy), or a ruleset file:
iptables-save text (rules.v4, rules.v6), nft text (an nftables.conf, nft
list ruleset) or nft JSON (nft -j list ruleset), told apart by content as
fwc import does. A ruleset is imported first (see fwc import); its rules
are then shown at their line in that file.

--live traces the ruleset the kernel runs now (in network namespace NS
with --netns), read with "nft -j list ruleset" as fwc import --live reads
it, and changes nothing. Its rules are shown at their line in that
listing, indented as fwc import --live shows it ("live:NS:42"), not at a
line of nft list ruleset; the host's routes and ip rules are not read.

PACKET is written in the rule language's match words, one value each:

  to self | from self     received by the host | sent by it (neither: forwarded)
  iif NAME, oif NAME      interfaces
  saddr ADDR, daddr ADDR  addresses (one family)
  tcp|udp|sctp|udplite|dccp [sport N] [dport N], proto NAME|N
  icmp|icmpv6 [type NAME|N [code N]], tcp flags syn|ack|...
  ct state NAME, ct status NAME,..., mark N, ct mark N

Fields left out take defaults: saddr 192.0.2.1 (2001:db8::1), daddr
198.51.100.1 (2001:db8:1::1), proto tcp, sport 40000, dport 80, ct state
new, tcp flags syn (ack for an established packet), icmp type
echo-request, marks 0. An iif not given is the interface of the zone
whose networks hold saddr, when that zone has one; else it is unknown and
rules on it fork the walk. The output interface comes from the policy's
routes (the packet's mark, ip rule fwmark, that table's routes), else from
oif (on a packet to self: where it leaves should a dnat forward it), else
from the zone whose networks hold daddr, else from the one zone without
networks (the uplink). The first lines of the output say which defaults
were taken. docs/trace.md has the details.

fwc does not know the host's addresses: a packet dnat sends to another
address is forwarded, unless --local names that address as the host's.
--merged walks the rules as the nft backend loads them (runs of rules
merged into sets and verdict maps); by default, the rules as written, as
the iptables backend loads them. --json prints the walk as one JSON
object.

Exit status: 0 when the packet was traced, whatever the verdict; 1 when
the policy has errors; 2 for usage or I/O problems and a PACKET that does
not parse (FW0501, FW0502).`,
		Example: `  fwc trace host.fw 'iif eth0 to self saddr 203.0.113.5 tcp sport 40000 dport 22 ct state new'
  fwc trace gateway.fw 'iif eth1 saddr 192.168.1.20 daddr 8.8.8.8 udp dport 53'
  fwc trace --json gateway.fw 'iif eth0 to self tcp dport 80' | jq .verdict
  fwc trace /etc/iptables/rules.v4 'iif eth0 to self tcp dport 22'
  fwc trace --live --netns web1 'iif eth0 to self tcp dport 443'`,
		Args: func(cmd *cobra.Command, args []string) error {
			live, _ := cmd.Flags().GetBool("live")
			netns, _ := cmd.Flags().GetString("netns")
			switch {
			case netns != "" && !live:
				return usagef("--netns goes with --live")
			case live && len(args) != 1:
				return usagef("trace --live needs PACKET only (the ruleset is the kernel's), got %d argument(s)", len(args))
			case !live && len(args) != 2:
				return usagef("trace needs POLICY and PACKET, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var local []netip.Addr
			for _, s := range locals {
				for _, part := range strings.Split(s, ",") {
					a, err := netip.ParseAddr(strings.TrimSpace(part))
					if err != nil {
						return usagef("--local: %q is not an address", part)
					}
					local = append(local, a.Unmap())
				}
			}
			from, pkt := rulesetSource{live: true, netns: netns}, args[0]
			if !live {
				from, pkt = rulesetSource{path: args[0]}, args[1]
			}
			return runTrace(e, from, pkt, traceOptions{json: asJSON, merged: merged, local: local})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the walk as JSON")
	f.BoolVar(&merged, "merged", false, "walk the rules merged as the nft backend loads them")
	f.BoolVar(&live, "live", false, "trace the kernel's current ruleset (nft -j list ruleset), read-only")
	f.StringVar(&netns, "netns", "", "with --live: the ruleset of network namespace `NS`")
	f.StringArrayVar(&locals, "local", nil, "`ADDR` is one of the host's addresses (a dnat to it delivers to the host); repeatable")
	addIncludeRootFlag(cmd, e)
	return cmd
}

type traceOptions struct {
	json, merged bool
	local        []netip.Addr
}

// tracePolicy is what a trace walks: the lowered policy, the sources of its
// rules and, for an imported ruleset, where each converted line came from.
type tracePolicy struct {
	rs      *ir.Ruleset
	zones   []*policy.Zone
	sources map[string][]byte
}

func runTrace(e *env, from rulesetSource, pkt string, opt traceOptions) error {
	if !from.live {
		if _, err := os.Stat(from.path); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}
	spec, pds := packet.Parse(packetName, pkt)
	if pds.HasErrors() {
		src := func(name string) []byte {
			if name == packetName {
				return []byte(pkt)
			}
			return nil
		}
		if err := diag.RenderText(e.stderr, pds, src, diag.TextOptions{Color: wantColor(e.stderr)}); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		return &exitError{code: exitUsage}
	}
	tp, err := loadTracePolicy(e, from)
	if err != nil || tp == nil {
		return err
	}
	rs := tp.rs
	if opt.merged {
		rs = ir.Merge(rs)
	}
	guessed := guessIfaces(spec, tp.zones)
	res := sim.Run(rs, spec.Path, spec.Packet, sim.Options{
		Local: func(a netip.Addr) bool { return slices.Contains(opt.local, a.Unmap()) },
		Route: func(a netip.Addr) string { return zoneIface(tp.zones, a) },
	})
	t := &tracer{tp: tp}
	out := t.report(spec, guessed, res)
	if opt.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		return nil
	}
	if _, err := e.stdout.Write(t.text(out)); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// loadTracePolicy compiles path: a policy through the compile driver, or
// an iptables-save file imported first. A nil policy with a nil error
// means the diagnostics were printed and the exit status is findings.
func loadTracePolicy(e *env, rs rulesetSource) (*tracePolicy, error) {
	ii, main, err := rulesetInput(rs)
	if err != nil {
		return nil, err
	}
	if ii != nil {
		return importTracePolicy(e, ii, main)
	}
	path := rs.path
	l, ds := loadPolicies(e, []string{path})
	var low *compile.Lowered
	if len(l.Units) == 1 && !ds.HasErrors() {
		var cds diag.Diagnostics
		low, cds = compile.Lower(l.Loaded, check.Options{ErrorsOnly: true})
		ds = append(ds, cds...)
	}
	if err := diag.RenderText(e.stderr, ds, l.source, diag.TextOptions{Color: wantColor(e.stderr)}); err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	switch {
	case slices.ContainsFunc(ds, func(d *diag.Diagnostic) bool { return d.Code == ioCode }):
		return nil, &exitError{code: exitUsage}
	case ds.HasErrors():
		return nil, findings
	case len(l.Units) == 0:
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("nothing to trace: no .fw files in %s", path)}
	case len(l.Units) > 1:
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("%s holds %d policies (%s); trace one at a time",
			path, len(l.Units), strings.Join(unitRoots(l), ", "))}
	}
	return &tracePolicy{rs: low.Ruleset, zones: low.Zones, sources: l.Sources}, nil
}

// importTracePolicy converts an imported ruleset (iptables-save or nft
// text or JSON, or the live ruleset: fwc import) and compiles the result;
// each converted rule names its line in the input ("# rules.v4:42"), which
// the trace shows instead of the converted text.
func importTracePolicy(e *env, ii *importInput, main string) (*tracePolicy, error) {
	text, cds := convert.Convert(ii.in, convert.Options{})
	ds := append(append(diag.Diagnostics{}, ii.ds...), cds...)
	name := main + ".fw"
	sources := map[string][]byte{name: text}
	for n, src := range ii.sources {
		sources[n] = src
	}
	var low *compile.Lowered
	if !ds.HasErrors() {
		file, lds := lang.ParseFile(name, text)
		ds = append(ds, lds...)
		if !lds.HasErrors() {
			l := &compile.Loaded{Units: []*lang.Unit{{Root: name, Files: []*ast.File{file}}}, Sources: sources}
			var xds diag.Diagnostics
			low, xds = compile.Lower(l, check.Options{ErrorsOnly: true})
			ds = append(ds, xds...)
		}
	}
	src2 := func(n string) []byte { return sources[n] }
	if err := diag.RenderText(e.stderr, ds.Sort(), src2, diag.TextOptions{Color: wantColor(e.stderr)}); err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	if ds.HasErrors() {
		// What fwc cannot express in the ruleset was reported at its
		// line: a trace without those rules would not be the ruleset's.
		return nil, findings
	}
	return &tracePolicy{rs: low.Ruleset, zones: low.Zones, sources: sources}, nil
}

// guessIfaces fills an input interface the PACKET left out from the zone
// whose networks hold the source address, and returns what it filled, as
// packet words for the defaults line.
func guessIfaces(spec *packet.Spec, zones []*policy.Zone) []string {
	p := &spec.Packet
	if !p.Unknown.Has(sem.IIf) {
		return nil
	}
	if dev := zoneIface(zones, p.Src); dev != "" {
		p.InIface, p.Unknown = dev, p.Unknown.Without(sem.IIf)
		return []string{"iif " + dev + " (the zone of saddr)"}
	}
	return nil
}

// zoneIface is the interface of the zone whose networks hold a (the
// longest prefix), when that zone has exactly one interface and it is not
// a wildcard; with no such zone, the interface of the one zone that has no
// networks (the uplink, whose networks are everything else); else "".
func zoneIface(zones []*policy.Zone, a netip.Addr) string {
	best, bits := "", -1
	uplinks := 0
	for _, z := range zones {
		if len(z.Nets) == 0 {
			uplinks++
			if uplinks == 1 && len(z.Ifaces) == 1 && !z.Ifaces[0].Wildcard {
				best = z.Ifaces[0].Name
			} else {
				best = ""
			}
		}
	}
	for _, z := range zones {
		if len(z.Ifaces) != 1 || z.Ifaces[0].Wildcard {
			continue
		}
		for _, n := range z.Nets {
			lo, hi := ir.Bounds(n)
			if lo.Is4() != a.Is4() || a.Less(lo) || hi.Less(a) {
				continue
			}
			b := 0
			if !n.IsRange() {
				b = n.Prefix.Bits()
			}
			if b > bits {
				best, bits = z.Ifaces[0].Name, b
			}
		}
	}
	return best
}

// The JSON form of a trace; the text form prints the same.
type traceOut struct {
	Packet   packetOut `json:"packet"`
	Path     string    `json:"path"`
	Defaults []string  `json:"defaults"`
	Ways     []wayOut  `json:"ways"`
	// Verdict is accept, drop or reject when every way agrees, else
	// undecided.
	Verdict string `json:"verdict"`
}

type packetOut struct {
	Words    string   `json:"words"` // the packet in packet words
	Family   string   `json:"family"`
	Saddr    string   `json:"saddr,omitempty"`
	Daddr    string   `json:"daddr,omitempty"`
	Proto    int      `json:"proto"`
	Sport    *int     `json:"sport,omitempty"`
	Dport    *int     `json:"dport,omitempty"`
	Iif      string   `json:"iif,omitempty"`
	Oif      string   `json:"oif,omitempty"`
	CtState  string   `json:"ct_state"`
	Mark     uint32   `json:"mark"`
	CtMark   uint32   `json:"ct_mark"`
	Unknown  []string `json:"unknown,omitempty"` // fields the walk does not know
	ICMPType *int     `json:"icmp_type,omitempty"`
}

type wayOut struct {
	Verdict string    `json:"verdict"`
	By      *ruleOut  `json:"by,omitempty"`
	Why     string    `json:"why,omitempty"` // what dropped it: a rule's place or a chain's policy
	Path    string    `json:"path"`
	Leaves  string    `json:"leaves"` // "local" or the output interface ("" unknown)
	Packet  packetOut `json:"packet"` // at the end, after NAT
	Steps   []stepOut `json:"steps"`
}

type ruleOut struct {
	Pos    string   `json:"pos"`    // file:line, several for a merged rule
	Source []string `json:"source"` // the source lines
}

type stepOut struct {
	Kind     string     `json:"kind"`
	Hook     string     `json:"hook,omitempty"`
	Table    string     `json:"table,omitempty"`
	Chain    string     `json:"chain,omitempty"`
	Priority *int       `json:"priority,omitempty"`
	Rule     *ruleOut   `json:"rule,omitempty"`
	Match    string     `json:"match,omitempty"` // yes, or unknown (followed as matching)
	Verdict  string     `json:"verdict,omitempty"`
	Mark     *uint32    `json:"mark,omitempty"`
	CtMark   *uint32    `json:"ct_mark,omitempty"`
	Before   *packetOut `json:"before,omitempty"` // nat
	After    *packetOut `json:"after,omitempty"`  // nat, route
	Path     string     `json:"path,omitempty"`   // route
	RTable   *int       `json:"route_table,omitempty"`
	IPRule   string     `json:"ip_rule,omitempty"`
	IPRoute  string     `json:"ip_route,omitempty"`
	Out      string     `json:"oif,omitempty"`
	NATWords string     `json:"nat,omitempty"`
}

type tracer struct {
	tp *tracePolicy
}

func (t *tracer) report(spec *packet.Spec, guessed []string, res *sim.Result) *traceOut {
	out := &traceOut{Packet: describe(spec.Packet), Path: spec.Path.String(), Defaults: append(slices.Clone(spec.Defaults), guessed...)}
	if out.Defaults == nil {
		out.Defaults = []string{}
	}
	verdicts := map[string]bool{}
	for _, w := range res.Ways {
		wo := wayOut{Verdict: verdictWord(w.Verdict, w.Reject), Why: w.Why, Path: w.Path.String(), Packet: describe(w.Packet), Steps: []stepOut{}}
		verdicts[wo.Verdict] = true
		if w.By != nil {
			wo.By = t.rule(w.By)
		}
		if w.Path == sem.ToSelf {
			wo.Leaves = "local"
		} else if !w.Packet.Unknown.Has(sem.OIf) {
			wo.Leaves = w.Packet.OutIface
		}
		for _, st := range w.Steps {
			wo.Steps = append(wo.Steps, t.step(st))
		}
		out.Ways = append(out.Ways, wo)
	}
	if len(verdicts) == 1 {
		out.Verdict = out.Ways[0].Verdict
	} else {
		out.Verdict = "undecided"
	}
	return out
}

func verdictWord(v sim.Verdict, reject bool) string {
	if v == sim.Drop && reject {
		return "reject"
	}
	return v.String()
}

// rule gives a rule's positions and source lines; a rule converted from
// an imported file shows its line there.
func (t *tracer) rule(r *ir.Rule) *ruleOut {
	ro := &ruleOut{Source: []string{}}
	var poss []string
	for i, p := range r.Pos {
		file := p.Range.Filename
		if file == "" {
			file = p.File
		}
		if i > 0 && p == r.Pos[i-1] {
			continue
		}
		pos := file + ":" + strconv.Itoa(p.Line)
		line := sourceLine(t.tp.sources[file], p.Line)
		snippet := line
		if src := t.tp.sources[file]; !p.Range.IsZero() && p.Range.End.Byte > p.Range.Start.Byte && p.Range.End.Byte <= len(src) {
			// The rule itself, not the line it is on (a one-line chain).
			snippet = strings.Join(strings.Fields(string(src[p.Range.Start.Byte:p.Range.End.Byte])), " ")
		}
		if base, n, ok := convert.Origin(line); ok {
			for name, src := range t.tp.sources {
				if filepath.Base(name) == base && name != file {
					pos = name + ":" + strconv.Itoa(n)
					if in := sourceLine(src, n); !isJSONLine(in) {
						snippet = in
					} else {
						// A line of nft JSON ("rule": {) says nothing:
						// the rule as imported does.
						snippet = strings.TrimSpace(line[:strings.LastIndex(line, "#")])
					}
				}
			}
		}
		if !slices.Contains(poss, pos) {
			poss = append(poss, pos)
			ro.Source = append(ro.Source, snippet)
		}
	}
	ro.Pos = strings.Join(poss, ", ")
	if ro.Pos == "" {
		ro.Pos = "(made by fwc)"
	}
	return ro
}

func sourceLine(src []byte, n int) string {
	for i := 1; len(src) > 0; i++ {
		line, rest, _ := bytes.Cut(src, []byte("\n"))
		if i == n {
			return strings.TrimSpace(string(line))
		}
		src = rest
	}
	return ""
}

func (t *tracer) step(st sim.Step) stepOut {
	so := stepOut{Kind: st.Kind.String(), Hook: string(st.Hook), Table: st.Table, Chain: st.Chain}
	if st.Rule != nil && st.Kind == sim.MatchRule {
		so.Rule = t.rule(st.Rule)
		so.Match = st.Match.String()
	}
	switch st.Kind {
	case sim.EnterChain:
		so.Priority = &st.Priority
	case sim.ChainPolicy:
		so.Verdict = st.Verdict.String()
	case sim.Final:
		so.Verdict = verdictWord(st.Verdict, st.Reject)
	case sim.SetMark:
		so.Mark, so.CtMark = &st.Mark, &st.CtMark
	case sim.NAT:
		b, a := describe(st.Before), describe(st.Packet)
		so.Before, so.After = &b, &a
		so.NATWords = rewrite(st.Before, st.Packet)
	case sim.Route:
		a := describe(st.Packet)
		so.After = &a
		so.Path = st.Path.String()
		so.RTable = &st.RouteTable
		if st.IPRule != nil {
			so.IPRule = st.IPRule.String()
		}
		if st.IPRoute != nil {
			so.IPRoute = st.IPRoute.String()
		}
		if st.Path != sem.ToSelf && !st.Packet.Unknown.Has(sem.OIf) {
			so.Out = st.Packet.OutIface
		}
	}
	return so
}

// rewrite says what a nat rule changed: "daddr 203.0.113.1 -> 192.168.1.200, dport 80 -> 8080".
func rewrite(a, b sem.Packet) string {
	var parts []string
	field := func(name string, d sem.Dim, x, y string) {
		if b.Unknown.Has(d) {
			y = "?"
			switch name {
			case "saddr":
				y = "the address of the output interface"
			case "daddr":
				y = "the address of the input interface"
			}
		}
		if a.Unknown.Has(d) {
			x = "?"
		}
		if x != y {
			parts = append(parts, name+" "+x+" -> "+y)
		}
	}
	field("saddr", sem.SAddr, a.Src.String(), b.Src.String())
	field("sport", sem.SPort, strconv.Itoa(int(a.SrcPort)), strconv.Itoa(int(b.SrcPort)))
	field("daddr", sem.DAddr, a.Dst.String(), b.Dst.String())
	field("dport", sem.DPort, strconv.Itoa(int(a.DstPort)), strconv.Itoa(int(b.DstPort)))
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

func describe(p sem.Packet) packetOut {
	po := packetOut{Family: "ipv4", Proto: int(p.Proto), Mark: p.Mark, CtMark: p.CtMark}
	if p.Family() == policy.IPv6 {
		po.Family = "ipv6"
	}
	var w []string
	if !p.Unknown.Has(sem.IIf) && p.InIface != "" {
		po.Iif = p.InIface
		w = append(w, "iif "+p.InIface)
	}
	if !p.Unknown.Has(sem.OIf) && p.OutIface != "" {
		po.Oif = p.OutIface
		w = append(w, "oif "+p.OutIface)
	}
	if !p.Unknown.Has(sem.SAddr) {
		po.Saddr = p.Src.String()
		w = append(w, "saddr "+po.Saddr)
	}
	if !p.Unknown.Has(sem.DAddr) {
		po.Daddr = p.Dst.String()
		w = append(w, "daddr "+po.Daddr)
	}
	name := check.ProtoWords.Name(uint64(p.Proto))
	if p.Proto == 58 {
		name = "icmpv6"
	}
	if name == "" {
		name = "proto " + strconv.Itoa(int(p.Proto))
	}
	w = append(w, name)
	if p.Proto.HasPorts() {
		if !p.Unknown.Has(sem.SPort) {
			n := int(p.SrcPort)
			po.Sport = &n
			w = append(w, "sport "+strconv.Itoa(n))
		}
		if !p.Unknown.Has(sem.DPort) {
			n := int(p.DstPort)
			po.Dport = &n
			w = append(w, "dport "+strconv.Itoa(n))
		}
	}
	if p.Proto == 1 || p.Proto == 58 {
		n := int(p.ICMPType)
		po.ICMPType = &n
		words := check.ICMPWords
		if p.Proto == 58 {
			words = check.ICMPv6Words
		}
		tn := words.Name(uint64(n))
		if tn == "" {
			tn = strconv.Itoa(n)
		}
		w = append(w, "type "+tn)
		if p.ICMPCode != 0 {
			w = append(w, "code "+strconv.Itoa(int(p.ICMPCode)))
		}
	}
	if p.Proto == policy.ProtoTCP {
		var fl []string
		for _, f := range []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"} {
			if v, _ := check.TCPFlagWords.Lookup(f); uint8(v)&p.TCPFlags != 0 {
				fl = append(fl, f)
			}
		}
		if len(fl) > 0 {
			w = append(w, "tcp flags "+strings.Join(fl, "|"))
		}
	}
	po.CtState = check.CtStateWords.Name(uint64(p.CtState))
	w = append(w, "ct state "+po.CtState)
	if p.CtStatus != 0 {
		var st []string
		for _, n := range check.CtStatusWords.Names() {
			if v, _ := check.CtStatusWords.Lookup(n); uint32(v)&p.CtStatus != 0 {
				st = append(st, n)
			}
		}
		w = append(w, "ct status "+strings.Join(st, ","))
	}
	if p.Mark != 0 && !p.Unknown.Has(sem.Mark) {
		w = append(w, fmt.Sprintf("mark %#x", p.Mark))
	}
	if p.CtMark != 0 && !p.Unknown.Has(sem.CtMark) {
		w = append(w, fmt.Sprintf("ct mark %#x", p.CtMark))
	}
	for d := range sem.NDim {
		if p.Unknown.Has(d) {
			po.Unknown = append(po.Unknown, d.String())
		}
	}
	po.Words = strings.Join(w, " ")
	return po
}

// text prints the trace for a reader: the packet, the defaults taken, each
// way's steps by hook, and the verdict on the last line.
func (t *tracer) text(out *traceOut) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "packet: %s (%s)\n", out.Packet.Words, out.Path)
	// The output interface is the routing decision's to make.
	if unk := slices.DeleteFunc(slices.Clone(out.Packet.Unknown), func(s string) bool { return s == "oif" }); len(unk) > 0 {
		fmt.Fprintf(&b, "not known: %s (a rule on it is followed both ways)\n", strings.Join(unk, ", "))
	}
	if len(out.Defaults) > 0 {
		fmt.Fprintf(&b, "defaults: %s\n", strings.Join(out.Defaults, ", "))
	}
	for i, w := range out.Ways {
		b.WriteString("\n")
		if len(out.Ways) > 1 {
			fmt.Fprintf(&b, "way %d of %d:\n", i+1, len(out.Ways))
		}
		hook := ""
		for _, st := range w.Steps {
			if st.Hook != "" && st.Hook != hook && st.Kind == "enter" {
				hook = st.Hook
				fmt.Fprintf(&b, "%s\n", hook)
			}
			switch st.Kind {
			case "enter":
				fmt.Fprintf(&b, "  %s %s (priority %d)\n", st.Table, st.Chain, *st.Priority)
			case "skip":
				b.WriteString("    skipped: only a connection's first packet crosses nat chains\n")
			case "match":
				poss := strings.Split(st.Rule.Pos, ", ")
				for k, src := range st.Rule.Source {
					fmt.Fprintf(&b, "    %s: %s\n", poss[min(k, len(poss)-1)], src)
				}
				if st.Match == "unknown" {
					b.WriteString("      (a condition this packet cannot decide: followed as matching here, not matching in another way)\n")
				}
			case "jump":
				fmt.Fprintf(&b, "    -> %s\n", st.Chain)
			case "return":
				fmt.Fprintf(&b, "    <- back in %s\n", st.Chain)
			case "mark":
				fmt.Fprintf(&b, "      mark %#x, ct mark %#x\n", *st.Mark, *st.CtMark)
			case "notrack":
				b.WriteString("      untracked from here on\n")
			case "nat":
				fmt.Fprintf(&b, "      nat: %s\n", st.NATWords)
			case "policy":
				fmt.Fprintf(&b, "    policy %s\n", st.Verdict)
			case "route":
				hook = ""
				b.WriteString("routing decision: ")
				switch {
				case st.Path == sem.ToSelf.String():
					b.WriteString("to the host (table local)\n")
				default:
					out := st.Out
					if out == "" {
						out = "an interface not known (give oif, or a zone with a network holding daddr)"
					}
					fmt.Fprintf(&b, "%s, out %s", st.Path, out)
					if st.IPRule != "" {
						fmt.Fprintf(&b, " (table %d by %s: %s)\n", *st.RTable, st.IPRule, st.IPRoute)
					} else {
						b.WriteString(" (table main)\n")
					}
				}
			case "final":
				switch {
				case st.Verdict != "accept":
					by := strings.TrimPrefix(w.Why, "the rule at ")
					if w.By != nil {
						by = w.By.Pos
					}
					fmt.Fprintf(&b, "%s by %s\n", map[string]string{"drop": "dropped", "reject": "rejected"}[st.Verdict], by)
				case w.Leaves == "local":
					fmt.Fprintf(&b, "delivered to the host as %s\n", w.Packet.Words)
				case w.Leaves == "":
					fmt.Fprintf(&b, "leaves by an interface not known as %s\n", w.Packet.Words)
				default:
					fmt.Fprintf(&b, "leaves by %s as %s\n", w.Leaves, w.Packet.Words)
				}
			}
		}
	}
	if out.Verdict == "undecided" {
		var vs []string
		for _, w := range out.Ways {
			if !slices.Contains(vs, w.Verdict) {
				vs = append(vs, w.Verdict)
			}
		}
		fmt.Fprintf(&b, "\nverdict: undecided (%s, by way)\n", strings.Join(vs, " or "))
	} else {
		fmt.Fprintf(&b, "\nverdict: %s\n", out.Verdict)
	}
	return b.Bytes()
}
