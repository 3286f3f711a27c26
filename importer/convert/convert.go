package convert

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/ipset"
	"github.com/fwcproject/fwc/importer/iptables"
	"github.com/fwcproject/fwc/importer/nft"
	"github.com/fwcproject/fwc/lang"
)

// Family is the address family of an iptables-save file.
type Family int

const (
	IPv4 Family = iota // iptables-save
	IPv6               // ip6tables-save
)

func (f Family) word() string {
	if f == IPv6 {
		return "ipv6"
	}
	return "ipv4"
}

// Ruleset is one iptables-save or ip6tables-save file as read, with its
// text (for the original lines of rules that cannot be imported) and its
// family.
type Ruleset struct {
	File   *iptables.File
	Src    []byte
	Family Family
}

// Input is everything converted into one policy: at most one ruleset of each
// family, and any number of ipset save files.
type Input struct {
	Rulesets []Ruleset
	Sets     []*ipset.File
	// Nft are nft rulesets (text or JSON, package importer/nft). Their
	// tables must not share a hook of an fwc table with the iptables
	// rulesets' (reported otherwise).
	Nft []*nft.File
}

// Options tunes Convert. The zero value writes origin comments.
type Options struct {
	// NoOrigin leaves out the "# rules.v4:42" comment of each rule.
	NoOrigin bool
	// ChainOrigin ends each chain's first line with the place the chain is
	// declared ("chain input { # rules.v4:3"), so that what is said of a
	// chain of the policy can be said of the input (fwc check rules.v4).
	ChainOrigin bool
}

// Convert turns the rulesets and sets into fwc source in `fwc fmt`
// layout. What fwc cannot express is reported at its place in the input
// (an error) and written to the output as a comment holding the original
// line; nothing is dropped silently. The diagnostics of the readers are not
// repeated here.
func Convert(in Input, opts Options) ([]byte, diag.Diagnostics) {
	c := &conv{opts: opts, sets: map[string]*setInfo{}}
	var out strings.Builder
	var names []string
	for _, r := range in.Rulesets {
		names = append(names, filepath.Base(r.File.Filename))
	}
	for _, f := range in.Sets {
		names = append(names, filepath.Base(f.Filename))
	}
	for _, f := range in.Nft {
		names = append(names, filepath.Base(f.Filename))
	}
	fmt.Fprintf(&out, "# Imported by fwc import from %s.\n", strings.Join(names, ", "))
	if len(in.Rulesets) == 1 && len(in.Nft) == 0 {
		// The policy says nothing about the other family but the chain
		// policies, which fwc gives both; say so where it will be read.
		one, other := "IPv4", "IPv6"
		if in.Rulesets[0].Family == IPv6 {
			one, other = other, one
		}
		fmt.Fprintf(&out, "# Every rule is %s only; for %s only the chain policies apply.\n", one, other)
	}
	for _, f := range in.Sets {
		for _, s := range f.Sets {
			c.set(&out, s)
		}
	}
	c.tables(&out, in.Rulesets)
	if len(in.Nft) > 0 {
		if len(in.Rulesets) > 0 {
			// Two kinds of input in one policy would have to share base
			// chains, which the two converters do not coordinate.
			c.ds.Add(diag.Error, CodeNoEquivalent, diag.Range{Filename: in.Nft[0].Filename}, "nft and iptables rulesets cannot be imported into one policy",
				"Import them separately; on a host both are loaded, and the kernel runs each table's chains by itself.")
		} else {
			c.nftFiles(&out, in.Nft)
		}
	}
	src := []byte(out.String())
	file, ds := lang.ParseFile("import.fw", src)
	if ds.HasErrors() || file == nil {
		var r diag.Range
		if len(ds) > 0 {
			r = ds[0].Subject
		}
		c.ds.Add(diag.Error, CodeInternal, r, "the imported policy does not parse", fmt.Sprint(ds))
		return src, c.ds
	}
	return lang.Format(file), c.ds
}

type setInfo struct {
	typ string // fwc element type; "" when the set was not imported
	fam Family
}

type conv struct {
	opts Options
	ds   diag.Diagnostics
	sets map[string]*setInfo
}

var nameRE = regexp.MustCompile(`^[A-Za-z_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$`)

var hookNames = map[string]bool{"prerouting": true, "input": true, "forward": true, "output": true, "postrouting": true}

// validName tells whether n can be an fwc name. Keywords can: after jump,
// goto and @ the parser reads a name.
func validName(n string) bool { return nameRE.MatchString(n) }

// set writes one ipset set as an fwc set, or as a comment with an error
// when fwc has no such set.
func (c *conv) set(out *strings.Builder, s *ipset.Set) {
	info := &setInfo{}
	c.sets[s.Name] = info
	fam := IPv4
	if o := s.Option("family"); o != nil && o.Value == "inet6" {
		fam = IPv6
	}
	info.fam = fam
	fail := func(r diag.Range, format string, args ...any) {
		c.ds.Add(diag.Error, CodeSetType, r, fmt.Sprintf(format, args...),
			"The set is written as a comment and the rules that match it are not imported.")
		fmt.Fprintf(out, "# not imported: set %s %s\n", s.Name, s.Type)
	}
	if !validName(s.Name) {
		c.ds.Add(diag.Error, CodeBadName, s.NameRange, fmt.Sprintf("set name %q cannot be an fwc name", s.Name), "")
		fmt.Fprintf(out, "# not imported: set %s %s\n", s.Name, s.Type)
		return
	}
	var typ string
	switch s.Type {
	case "hash:ip":
		typ = map[Family]string{IPv4: "ipv4_addr", IPv6: "ipv6_addr"}[fam]
	case "hash:net":
		typ = map[Family]string{IPv4: "ipv4_net", IPv6: "ipv6_net"}[fam]
	case "bitmap:port":
		typ = "port"
	case "":
		// Only ever added to: the reader reported it (FW3103).
		fail(s.NameRange, "set %s has no type", s.Name)
		return
	default:
		fail(s.TypeRange, "ipset type %s has no fwc set type", s.Type)
		return
	}
	var items []string
	for _, o := range s.Options {
		switch o.Name {
		case "family", "hashsize", "bucketsize", "initval", "counters", "comment", "range", "-exist", "-!":
			// Sizes of the hash table, counters and comments change what
			// the kernel allocates and reports, not what the set matches;
			// a bitmap:port's range only bounds what can be added.
		case "maxelem", "timeout":
			if !uintIn(o.Value, 1, 1<<32-1) {
				fail(o.ValueRange, "ipset %s %q cannot be imported", o.Name, o.Value)
				return
			}
			items = append(items, map[string]string{"maxelem": "size ", "timeout": "timeout "}[o.Name]+o.Value+map[string]string{"maxelem": "", "timeout": "s"}[o.Name])
		default:
			fail(o.Range, "ipset option %s has no fwc equivalent", o.Name)
			return
		}
	}
	var elems []string
	for _, e := range s.Elements {
		text := e.Text
		if typ == "ipv4_addr" || typ == "ipv6_addr" || typ == "ipv4_net" || typ == "ipv6_net" {
			p, ok := parseAddr(text)
			if !ok || p.Addr().Is4() != (fam == IPv4) {
				fail(e.Range, "element %q is not an address of the set's family", text)
				return
			}
			text = addrText(p)
		} else if _, err := strconv.ParseUint(text, 10, 16); err != nil {
			fail(e.Range, "element %q is not a port", text)
			return
		}
		for _, o := range e.Options {
			switch o.Name {
			case "timeout":
				if !uintIn(o.Value, 0, 1<<32-1) {
					fail(o.ValueRange, "ipset timeout %q cannot be imported", o.Value)
					return
				}
				if o.Value != "0" { // 0: the element never times out
					text += " timeout " + o.Value + "s"
				}
			case "packets", "bytes", "comment", "-exist", "-!":
			default:
				fail(o.Range, "ipset element option %s has no fwc equivalent", o.Name)
				return
			}
		}
		elems = append(elems, text)
	}
	if len(elems) > 0 {
		items = append(items, "elements { "+strings.Join(elems, ", ")+" }")
	}
	info.typ = typ
	fmt.Fprintf(out, "set %s : %s {\n", s.Name, typ)
	for _, it := range items {
		fmt.Fprintf(out, "\t%s\n", it)
	}
	out.WriteString("}\n")
}

// parseAddr reads an address or prefix as ipset and iptables write them,
// "a.b.c.d/255.255.255.0" included, masked as the kernel masks it.
func parseAddr(s string) (netip.Prefix, bool) {
	addr, bits, hasBits := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	n := a.BitLen()
	if hasBits {
		if m, err := netip.ParseAddr(bits); err == nil {
			// A dotted mask: only contiguous masks have a prefix length.
			b := m.AsSlice()
			ones, seenZero := 0, false
			for _, x := range b {
				for i := 7; i >= 0; i-- {
					if x&(1<<i) != 0 {
						if seenZero {
							return netip.Prefix{}, false
						}
						ones++
					} else {
						seenZero = true
					}
				}
			}
			if m.BitLen() != a.BitLen() {
				return netip.Prefix{}, false
			}
			n = ones
		} else {
			v, err := strconv.Atoi(bits)
			if err != nil || v < 0 || v > a.BitLen() {
				return netip.Prefix{}, false
			}
			n = v
		}
	}
	p, err := a.Prefix(n)
	return p, err == nil
}

func addrText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// chainKey names one chain of one table.
type chainKey struct{ table, chain string }

// tables writes the table blocks: every table and chain of the inputs, in
// the order of the first file that has them.
func (c *conv) tables(out *strings.Builder, rss []Ruleset) {
	var order []string
	seen := map[string]bool{}
	for _, rs := range rss {
		for _, t := range rs.File.Tables {
			if !t.Replaced && !seen[t.Name] {
				seen[t.Name] = true
				order = append(order, t.Name)
			}
		}
	}
	// Chain names fwc cannot use, so that jumps to them are reported too.
	bad := map[chainKey]bool{}
	for _, rs := range rss {
		for _, t := range rs.File.Tables {
			if t.Replaced {
				continue
			}
			for _, ch := range t.Chains {
				if !ch.Builtin && (!validName(ch.Name) || hookNames[strings.ToLower(ch.Name)]) {
					r := ch.Range
					if r.IsZero() && len(ch.Rules) > 0 {
						r = ch.Rules[0].Range // undeclared (the reader said so)
					}
					if !bad[chainKey{t.Name, ch.Name}] {
						c.ds.Add(diag.Error, CodeBadName, r, fmt.Sprintf("chain name %q cannot be an fwc name", ch.Name),
							"fwc names are letters, digits, '_' and '-', start with a letter or '_', do not end with '-', and a user chain cannot be named after a hook. Its rules and the rules that jump to it are not imported.")
					}
					bad[chainKey{t.Name, ch.Name}] = true
				}
			}
		}
	}
	for _, tname := range order {
		if _, ok := builtinTables[tname]; !ok {
			// The reader reported the unknown table; its rules cannot be placed.
			for _, rs := range rss {
				if t := rs.File.Table(tname); t != nil {
					c.ds.Add(diag.Error, CodeNoEquivalent, t.Range, fmt.Sprintf("table %s has no fwc equivalent", tname), "")
				}
			}
			continue
		}
		var per [2]*iptables.Table
		var src [2]*Ruleset
		for i := range rss {
			rs := &rss[i]
			if t := rs.File.Table(tname); t != nil {
				per[rs.Family], src[rs.Family] = t, rs
			}
		}
		var body strings.Builder
		var chainOrder []string
		cseen := map[string]bool{}
		for _, t := range per {
			if t == nil {
				continue
			}
			for _, ch := range t.Chains {
				if !cseen[ch.Name] {
					cseen[ch.Name] = true
					chainOrder = append(chainOrder, ch.Name)
				}
			}
		}
		for _, name := range chainOrder {
			var chs [2]*iptables.Chain
			for f, t := range per {
				if t != nil {
					chs[f] = t.Chain(name)
				}
			}
			c.chain(&body, tname, chs, src, len(rss) == 2, bad)
		}
		if body.Len() > 0 {
			fmt.Fprintf(out, "\ntable %s {\n%s}\n", tname, body.String())
		}
	}
}

var builtinTables = map[string]bool{"filter": true, "nat": true, "mangle": true, "raw": true, "security": true}

// chain writes one chain, from the file of each family that has it. both
// tells that a ruleset of each family was given.
func (c *conv) chain(out *strings.Builder, table string, chs [2]*iptables.Chain, src [2]*Ruleset, both bool, bad map[chainKey]bool) {
	var any *iptables.Chain
	for _, ch := range chs {
		if ch != nil {
			any = ch
			break
		}
	}
	if bad[chainKey{table, any.Name}] {
		for f, ch := range chs {
			if ch != nil {
				for _, r := range ch.Rules {
					c.commentOut(out, src[f], r)
				}
			}
		}
		return
	}
	name := any.Name
	header := name
	var tail []string
	if any.Builtin {
		header = strings.ToLower(name)
		// fwc has one policy per chain for both families. Equal policies
		// (or one given, the other family absent) are written as they are;
		// different ones become accept and a last rule dropping the family
		// whose policy is drop, which is what the kernel does.
		pol := [2]string{}
		for f, ch := range chs {
			if ch != nil {
				pol[f] = ch.Policy
			}
		}
		if pol[0] == "" {
			pol[0] = pol[1]
		}
		if pol[1] == "" {
			pol[1] = pol[0]
		}
		switch {
		case !both || pol[0] == pol[1]:
			if pol[0] == "DROP" {
				header += " policy drop"
			} else if any.Declared || len(any.Rules) > 0 {
				header += " policy accept"
			}
		default:
			header += " policy accept"
			for f, p := range pol {
				if p == "DROP" {
					t := "family " + Family(f).word() + " drop"
					if !c.opts.NoOrigin {
						t += " # policy of " + c.origin(src[f], chs[f].PolicyRange)
					}
					tail = append(tail, t)
				}
			}
		}
		// An undeclared built-in chain with no rules is not in the input.
		if chs[0] != nil && !chs[0].Declared && len(chs[0].Rules) == 0 && (chs[1] == nil || !chs[1].Declared && len(chs[1].Rules) == 0) {
			return
		}
		if chs[1] != nil && chs[0] == nil && !chs[1].Declared && len(chs[1].Rules) == 0 {
			return
		}
	}
	fmt.Fprintf(out, "\tchain %s {%s\n", header, c.chainOrigin(chs, src))
	conv := func(f Family, ch *iptables.Chain) []*rule {
		var rs []*rule
		if ch == nil {
			return nil
		}
		for _, r := range ch.Rules {
			rs = append(rs, c.rule(src[f], table, r, bad))
		}
		return rs
	}
	r4, r6 := conv(IPv4, chs[0]), conv(IPv6, chs[1])
	emit := func(r *rule, f Family, fold bool) {
		if r.failed {
			c.commentOut(out, r.src, r.in)
			return
		}
		for _, cm := range r.comments {
			fmt.Fprintf(out, "\t\t# %s\n", cm)
		}
		text := r.text
		if !fold {
			text = "family " + f.word() + " " + text
		}
		origin := ""
		if !c.opts.NoOrigin {
			origin = " # " + r.origin
		}
		fmt.Fprintf(out, "\t\t%s%s\n", text, origin)
	}
	if len(r4) == len(r6) {
		// The chains correspond rule for rule: a pair that converts to the
		// same text is one dual-stack rule, the others stay one per family,
		// next to each other (a rule of one family does not see the
		// other's packets, so their relative order is free).
		for i := range r4 {
			a, b := r4[i], r6[i]
			if !a.failed && !b.failed && a.text == b.text && !a.familyBound && !b.familyBound {
				m := *a
				m.origin = a.origin + ", " + b.origin
				m.comments = a.comments
				if strings.Join(a.comments, "\n") != strings.Join(b.comments, "\n") {
					m.comments = append(append([]string{}, a.comments...), b.comments...)
				}
				emit(&m, IPv4, true)
				continue
			}
			emit(a, IPv4, false)
			emit(b, IPv6, false)
		}
	} else {
		for _, r := range r4 {
			emit(r, IPv4, false)
		}
		for _, r := range r6 {
			emit(r, IPv6, false)
		}
	}
	for _, t := range tail {
		fmt.Fprintf(out, "\t\t%s\n", t)
	}
	out.WriteString("\t}\n")
}

// chainOrigin is " # rules.v4:3, rules.v6:3" for the chains' declarations,
// with Options.ChainOrigin.
func (c *conv) chainOrigin(chs [2]*iptables.Chain, src [2]*Ruleset) string {
	if !c.opts.ChainOrigin || c.opts.NoOrigin {
		return ""
	}
	var o []string
	for f, ch := range chs {
		if ch != nil && !ch.Range.IsZero() {
			o = append(o, c.origin(src[f], ch.Range))
		}
	}
	if len(o) == 0 {
		return ""
	}
	return " # " + strings.Join(o, ", ")
}

// origin is "rules.v4:42" for a position in rs's file.
func (c *conv) origin(rs *Ruleset, r diag.Range) string {
	return fmt.Sprintf("%s:%d", filepath.Base(rs.File.Filename), r.Start.Line)
}

// commentOut writes a rule that is not imported as a comment holding its
// original line.
func (c *conv) commentOut(out *strings.Builder, rs *Ruleset, r *iptables.Rule) {
	line := ""
	if s, e := r.Range.Start.Byte, r.Range.End.Byte; rs.Src != nil && s >= 0 && s <= e && e <= len(rs.Src) {
		line = strings.TrimRight(string(rs.Src[s:e]), "\r")
	}
	// A comment ends at the line end; anything else is kept as it was.
	line = oneLine(line)
	fmt.Fprintf(out, "\t\t# not imported (%s): %s\n", c.origin(rs, r.Range), line)
}
