package convert

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/nft"
)

// An nft ruleset is placed into fwc's fixed tables by what its base chains
// are: a chain of type nat goes to table nat, a filter chain to raw,
// mangle, filter or security by its priority (with `priority N` when it is
// not the table's own), a route chain to mangle. Base chains of one hook in
// an ip and an ip6 table fold into one fwc chain: each family's rules carry
// their family, so neither sees the other's. Anything else that would put
// two base chains on one hook of one fwc table is reported: fwc has one.

// nftTarget is where an nft chain goes in the policy.
type nftTarget struct {
	table    string // fwc table
	name     string // fwc chain: the hook of a base chain, the name of a user chain
	priority string // "" when the fwc table's own
}

type nftPart struct {
	file  *nft.File
	t     *nft.Table
	c     *nft.Chain
	bad   bool // the chain is not imported (reported): its rules are comments
	fam   string
	order int
	table string // the fwc table the chain goes to
}

// chainName is the fwc name of a user chain of t placed in fwc table
// table: its own, but in fwc's own nft table (inet fwc), whose user chains
// fwc names TABLE_CHAIN, the name it had in the policy.
func chainName(t *nft.Table, table, name string) string {
	if t.Family == "inet" && t.Name == nft.FwcTable {
		if n := strings.TrimPrefix(name, table+"_"); n != name && validName(n) && !hookNames[n] {
			return n
		}
	}
	return name
}

var fwcTableOrder = []string{"raw", "mangle", "nat", "filter", "security"}

var tableHooks = map[string][]string{
	"raw":      {"prerouting", "output"},
	"mangle":   {"prerouting", "input", "forward", "output", "postrouting"},
	"nat":      {"prerouting", "input", "output", "postrouting"},
	"filter":   {"input", "forward", "output"},
	"security": {"input", "forward", "output"},
}

func hasHook(table, hook string) bool {
	for _, h := range tableHooks[table] {
		if h == hook {
			return true
		}
	}
	return false
}

// stdPriority is the priority fwc gives a base chain of table on hook.
func stdPriority(table, hook string) int {
	switch table {
	case "raw":
		return -300
	case "mangle":
		return -150
	case "nat":
		if hook == "prerouting" || hook == "output" {
			return -100
		}
		return 100
	case "security":
		return 50
	}
	return 0
}

// placeBase finds the fwc table of a base chain, or says why there is none.
func placeBase(c *nft.Chain) (nftTarget, string) {
	hook := c.Hook
	switch c.Type {
	case "nat":
		if !hasHook("nat", hook) {
			return nftTarget{}, "a nat chain on hook " + hook
		}
		return withPrio("nat", hook, c.Priority)
	case "route":
		if hook != "output" {
			return nftTarget{}, "a route chain on hook " + hook
		}
		return withPrio("mangle", hook, c.Priority)
	case "filter":
		for _, t := range []string{"raw", "mangle", "filter", "security"} {
			if stdPriority(t, hook) == c.Priority && hasHook(t, hook) {
				return nftTarget{table: t, name: hook}, ""
			}
		}
		if hasHook("filter", hook) {
			return withPrio("filter", hook, c.Priority)
		}
		if hasHook("mangle", hook) {
			return withPrio("mangle", hook, c.Priority)
		}
		return nftTarget{}, "a base chain on hook " + hook
	}
	return nftTarget{}, "a base chain of type " + c.Type
}

func withPrio(table, hook string, prio int) (nftTarget, string) {
	t := nftTarget{table: table, name: hook}
	if prio < -1000 || prio > 1000 {
		return nftTarget{}, fmt.Sprintf("priority %d (fwc takes -1000 to 1000)", prio)
	}
	if prio != stdPriority(table, hook) {
		t.priority = strconv.Itoa(prio)
	}
	return t, ""
}

var nftFamilies = map[string]string{"ip": "ipv4", "ip6": "ipv6", "inet": ""}

// nftSetInfo is what a rule needs of a named set.
type nftSetInfo struct {
	name   string   // fwc set name; "" when the set is not a named fwc set
	inline []string // the elements, for a constant set written in the rule
	fam    string   // ipv4, ipv6 or ""
	vmap   *nft.Set // a verdict map
	why    string   // why the set can be used neither way
	key    string   // fwc element type
}

type nftConv struct {
	c     *conv
	sets  map[*nft.Table]map[string]*nftSetInfo
	bad   map[*nft.Table]map[string]bool // chains not imported
	place map[*nft.Table]map[string][]nftTarget
}

// nftFiles converts the nft rulesets into sets and table blocks.
func (c *conv) nftFiles(out *strings.Builder, files []*nft.File) {
	nc := &nftConv{c: c, sets: map[*nft.Table]map[string]*nftSetInfo{}, bad: map[*nft.Table]map[string]bool{}, place: map[*nft.Table]map[string][]nftTarget{}}
	setNames := map[string]bool{}
	for _, f := range files {
		for _, t := range f.Tables {
			nc.sets[t] = map[string]*nftSetInfo{}
			nc.bad[t] = map[string]bool{}
			if _, ok := nftFamilies[t.Family]; !ok {
				continue
			}
			dyn, looked := setUses(t)
			for _, s := range t.Sets {
				if dyn[s.Name] && !looked[s.Name] {
					// The state of a meter or a connection count: fwc
					// makes its own for the meter or connlimit.
					nc.sets[t][s.Name] = &nftSetInfo{why: "set " + s.Name + " (filled by a meter)"}
					continue
				}
				nc.sets[t][s.Name] = nc.set(out, f, t, s, setNames)
			}
		}
	}
	chains := map[nftTarget][]*nftPart{}
	var order []nftTarget
	ordered := map[nftTarget]bool{}
	add := func(tg nftTarget, p *nftPart) {
		key := nftTarget{table: tg.table, name: tg.name}
		if !ordered[key] {
			ordered[key] = true
			order = append(order, tg)
		}
		chains[key] = append(chains[key], p)
	}
	n := 0
	for _, f := range files {
		for _, t := range f.Tables {
			fam, ok := nftFamilies[t.Family]
			if !ok {
				c.ds.Add(diag.Error, CodeNoEquivalent, t.Range, fmt.Sprintf("an nft table of family %s has no fwc equivalent", t.Family),
					"fwc policies filter IPv4 and IPv6 (nft families ip, ip6 and inet). The table's rules are kept as comments.")
				for _, ch := range t.Chains {
					n++
					add(nftTarget{table: "filter", name: "_" + t.Family + "_" + t.Name + "_" + ch.Name}, &nftPart{file: f, t: t, c: ch, bad: true, order: n})
				}
				continue
			}
			// Base chains first; user chains go to the fwc tables of the base
			// chains that reach them.
			reach := map[string]map[string]bool{} // user chain -> fwc tables
			var walk func(ch *nft.Chain, table string, depth int)
			walk = func(ch *nft.Chain, table string, depth int) {
				if depth > 64 {
					return
				}
				for _, target := range jumpTargets(ch, t) {
					if reach[target] == nil {
						reach[target] = map[string]bool{}
					}
					if !reach[target][table] {
						reach[target][table] = true
						if u := t.Chain(target); u != nil && !u.Base() {
							walk(u, table, depth+1)
						}
					}
				}
			}
			// Base chains are placed first (user chains go to the fwc
			// tables of the base chains that reach them), then every chain
			// is added in the table's order.
			defaultTable := ""
			base := map[*nft.Chain]nftTarget{}
			for _, ch := range t.Chains {
				if !ch.Base() {
					continue
				}
				tg, why := placeBase(ch)
				if why == "" {
					tg = nc.freePlace(tg, ch, fam, chains)
					// Reserve the place so that the next chain sees it.
					chains[nftTarget{table: tg.table, name: tg.name}] = append(chains[nftTarget{table: tg.table, name: tg.name}], &nftPart{t: t, c: ch, fam: fam, bad: true, table: "reserved"})
				} else {
					c.ds.Add(diag.Error, CodeNoEquivalent, ch.BaseRange, why+" has no fwc equivalent", "The chain's rules are kept as comments.")
					nc.bad[t][ch.Name] = true
					tg = nftTarget{table: "filter", name: "_" + t.Family + "_" + t.Name + "_" + ch.Name}
				}
				base[ch] = tg
				if why == "" {
					if defaultTable == "" {
						defaultTable = tg.table
					}
					walk(ch, tg.table, 0)
				}
			}
			if defaultTable == "" {
				defaultTable = "filter"
			}
			for _, ch := range t.Chains {
				n++
				if ch.Base() {
					tg := base[ch]
					key := nftTarget{table: tg.table, name: tg.name}
					// Drop the reservation.
					var keep []*nftPart
					for _, p := range chains[key] {
						if p.c != ch || p.table != "reserved" {
							keep = append(keep, p)
						}
					}
					chains[key] = keep
					add(tg, &nftPart{file: f, t: t, c: ch, fam: fam, order: n, table: tg.table, bad: nc.bad[t][ch.Name]})
					continue
				}
				if !validName(ch.Name) || hookNames[strings.ToLower(ch.Name)] {
					c.ds.Add(diag.Error, CodeBadName, ch.Range, fmt.Sprintf("chain name %q cannot be an fwc name", ch.Name),
						"fwc names are letters, digits, '_' and '-', start with a letter or '_', do not end with '-', and a user chain cannot be named after a hook. Its rules and the rules that jump to it are not imported.")
					nc.bad[t][ch.Name] = true
					add(nftTarget{table: defaultTable, name: "_bad_" + ch.Name}, &nftPart{file: f, t: t, c: ch, bad: true, order: n})
					continue
				}
				tables := reach[ch.Name]
				if len(tables) == 0 {
					tables = map[string]bool{defaultTable: true}
				}
				for _, tn := range fwcTableOrder {
					if tables[tn] {
						add(nftTarget{table: tn, name: chainName(t, tn, ch.Name)}, &nftPart{file: f, t: t, c: ch, fam: fam, order: n, table: tn})
					}
				}
			}
		}
	}
	// Parts that share a chain must be of disjoint families.
	for _, tg := range order {
		key := nftTarget{table: tg.table, name: tg.name}
		ps := chains[key]
		seen := map[string]*nftPart{}
		for _, p := range ps {
			if p.bad {
				continue
			}
			for _, f := range famsOf(p.fam) {
				if q := seen[f]; q != nil {
					what := "a second base chain on hook " + tg.name + " of fwc table " + tg.table
					if !p.c.Base() {
						what = "a second chain " + p.c.Name + " in fwc table " + tg.table
					}
					c.ds.Add(diag.Error, CodeNoEquivalent, p.c.Range, what+" has no fwc equivalent",
						fmt.Sprintf("fwc has one chain per name and table, and %s %s %s already fills it for the same family. The chain's rules are kept as comments.", q.t.Family, q.t.Name, q.c.Name))
					p.bad = true
					nc.bad[p.t][p.c.Name] = true
					break
				}
			}
			if !p.bad {
				for _, f := range famsOf(p.fam) {
					seen[f] = p
				}
			}
			if p.c.Base() && len(ps) > 1 && ps[0].c.Base() && p.c.Priority != ps[0].c.Priority && !p.bad && p != ps[0] {
				c.ds.Add(diag.Error, CodeNoEquivalent, p.c.BaseRange, "base chains of one hook at different priorities have no fwc equivalent", "The chain's rules are kept as comments.")
				p.bad = true
				nc.bad[p.t][p.c.Name] = true
			}
		}
	}
	byTable := map[string][]nftTarget{}
	for _, tg := range order {
		byTable[tg.table] = append(byTable[tg.table], tg)
	}
	for _, tn := range fwcTableOrder {
		if len(byTable[tn]) == 0 {
			continue
		}
		var body strings.Builder
		for _, tg := range byTable[tn] {
			nc.chain(&body, tg, chains[nftTarget{table: tg.table, name: tg.name}])
		}
		if body.Len() > 0 {
			fmt.Fprintf(out, "\ntable %s {\n%s}\n", tn, body.String())
		}
	}
}

// freePlace moves a filter chain to another fwc table that has its hook
// when its own table's chain for the hook is taken (by a chain of the same
// family, or at another priority): nft runs base chains of one hook in
// priority order whatever their table, and an fwc table with an explicit
// priority is such a chain.
func (nc *nftConv) freePlace(tg nftTarget, ch *nft.Chain, fam string, chains map[nftTarget][]*nftPart) nftTarget {
	free := func(t nftTarget) bool {
		for _, p := range chains[nftTarget{table: t.table, name: t.name}] {
			if p.bad {
				continue
			}
			if p.c.Priority != ch.Priority || fam == "" || p.fam == "" || p.fam == fam {
				return false
			}
		}
		return true
	}
	if free(tg) || ch.Type != "filter" {
		return tg
	}
	for _, t := range []string{"raw", "mangle", "filter", "security"} {
		if !hasHook(t, ch.Hook) {
			continue
		}
		alt, why := withPrio(t, ch.Hook, ch.Priority)
		if why == "" && free(alt) {
			return alt
		}
	}
	return tg
}

// setUses tells which sets of a table rules fill (add, update, meter)
// and which they look up (@set in a match or vmap).
func setUses(t *nft.Table) (dyn, looked map[string]bool) {
	dyn, looked = map[string]bool{}, map[string]bool{}
	var walk func(e *nft.Expr)
	walk = func(e *nft.Expr) {
		if e == nil {
			return
		}
		if e.Kind == nft.ExprSetRef {
			looked[e.Text] = true
		}
		for _, a := range e.Args {
			walk(a)
		}
	}
	var stmts func(ss []*nft.Stmt)
	stmts = func(ss []*nft.Stmt) {
		for _, s := range ss {
			if s.Kind == nft.StmtDynset {
				dyn[s.Set] = true
			}
			walk(s.Left)
			walk(s.Right)
			stmts(s.Stmts)
		}
	}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			stmts(r.Stmts)
		}
	}
	return dyn, looked
}

func famsOf(f string) []string {
	if f == "" {
		return []string{"ipv4", "ipv6"}
	}
	return []string{f}
}

// jumpTargets are the chains a chain jumps or goes to, vmaps included.
func jumpTargets(ch *nft.Chain, t *nft.Table) []string {
	var out []string
	var fromExpr func(e *nft.Expr)
	fromExpr = func(e *nft.Expr) {
		if e == nil {
			return
		}
		if e.Kind == nft.ExprVerdict && (e.Text == "jump" || e.Text == "goto") {
			out = append(out, e.Name)
		}
		if e.Kind == nft.ExprSetRef {
			if s := t.Set(e.Text); s != nil && s.Map {
				for _, el := range s.Elements {
					fromExpr(el)
				}
			}
		}
		for _, a := range e.Args {
			fromExpr(a)
		}
	}
	for _, r := range ch.Rules {
		for _, s := range r.Stmts {
			if s.Kind == nft.StmtVerdict && s.Target != "" {
				out = append(out, s.Target)
			}
			if s.Kind == nft.StmtVmap {
				fromExpr(s.Right)
			}
		}
	}
	return out
}

func (nc *nftConv) origin(f *nft.File, r diag.Range) string {
	name := r.Filename
	if name == "" {
		name = f.Filename
	}
	return fmt.Sprintf("%s:%d", filepath.Base(name), r.Start.Line)
}

func (nc *nftConv) commentOut(out *strings.Builder, f *nft.File, r *nft.Rule) {
	fmt.Fprintf(out, "\t\t# not imported (%s): %s\n", nc.origin(f, r.Range), oneLine(strings.Join(strings.Fields(r.Text), " ")))
}

func (nc *nftConv) chain(out *strings.Builder, tg nftTarget, ps []*nftPart) {
	var good []*nftPart
	for _, p := range ps {
		if p.bad {
			for _, r := range p.c.Rules {
				nc.commentOut(out, p.file, r)
			}
			if len(p.c.Rules) == 0 {
				fmt.Fprintf(out, "\t# not imported: chain %s of table %s %s\n", p.c.Name, p.t.Family, p.t.Name)
			}
			continue
		}
		good = append(good, p)
	}
	if len(good) == 0 {
		return
	}
	header := tg.name
	if tg.priority != "" {
		header += " priority " + tg.priority
	}
	var tail []string
	if good[0].c.Base() {
		// One policy for the chain: drop only when every family that has
		// it drops (and both families are covered); otherwise a last rule
		// drops the families whose chain drops.
		drops := map[string]bool{}
		covered := map[string]bool{}
		for _, p := range good {
			for _, f := range famsOf(p.fam) {
				covered[f] = true
				if p.c.Policy == "drop" {
					drops[f] = true
				}
			}
		}
		switch {
		case drops["ipv4"] && drops["ipv6"]:
			header += " policy drop"
		default:
			for _, p := range good {
				if p.c.Policy == "drop" {
					t := "family " + p.fam + " drop"
					if !nc.c.opts.NoOrigin {
						t += " # policy of " + nc.origin(p.file, p.c.PolicyRange)
					}
					tail = append(tail, t)
				}
			}
		}
	}
	co := ""
	if nc.c.opts.ChainOrigin && !nc.c.opts.NoOrigin {
		var o []string
		for _, p := range good {
			o = append(o, nc.origin(p.file, p.c.Range))
		}
		co = " # " + strings.Join(o, ", ")
	}
	fmt.Fprintf(out, "\tchain %s {%s\n", header, co)
	for _, p := range good {
		if p.c.Comment != "" {
			fmt.Fprintf(out, "\t\t# %s\n", oneLine(p.c.Comment))
		}
		for _, r := range p.c.Rules {
			texts, comments, ok := nc.rule(p, r)
			if !ok {
				nc.commentOut(out, p.file, r)
				continue
			}
			for _, cm := range comments {
				fmt.Fprintf(out, "\t\t# %s\n", cm)
			}
			origin := ""
			if !nc.c.opts.NoOrigin {
				origin = " # " + nc.origin(p.file, r.Range)
			}
			for _, t := range texts {
				fmt.Fprintf(out, "\t\t%s%s\n", t, origin)
			}
		}
	}
	for _, t := range tail {
		fmt.Fprintf(out, "\t\t%s\n", t)
	}
	out.WriteString("\t}\n")
}

// nftSetTypes maps nft set key types to fwc's.
var nftSetTypes = map[string]string{
	"ipv4_addr": "ipv4_addr", "ipv6_addr": "ipv6_addr", "inet_service": "port", "ifname": "iface", "mark": "mark",
}

var typeofTypes = map[string]string{
	"ip saddr": "ipv4_addr", "ip daddr": "ipv4_addr", "ip6 saddr": "ipv6_addr", "ip6 daddr": "ipv6_addr",
	"tcp dport": "inet_service", "tcp sport": "inet_service", "udp dport": "inet_service", "udp sport": "inet_service",
	"th dport": "inet_service", "th sport": "inet_service", "meta iifname": "ifname", "meta oifname": "ifname",
	"meta mark": "mark", "ct mark": "mark",
}

// set writes one nft set as an fwc set when fwc has its type; a constant
// set fwc has no type for is written into the rules that use it.
func (nc *nftConv) set(out *strings.Builder, f *nft.File, t *nft.Table, s *nft.Set, names map[string]bool) *nftSetInfo {
	info := &nftSetInfo{}
	types := s.Type
	if len(types) == 0 {
		for _, e := range s.Typeof {
			types = append(types, typeofTypes[e.Proto+" "+e.Name])
		}
	}
	if s.Map {
		if s.DataType == "verdict" && !s.HasFlag("dynamic") && !s.HasFlag("timeout") {
			info.vmap = s
		} else {
			info.why = "map " + s.Name + " (a map of " + s.DataType + ")"
		}
		return info
	}
	elems, ok := nc.elements(s.Elements)
	constant := !s.HasFlag("dynamic") && !s.HasFlag("timeout") && s.Timeout == "" && ok
	if constant {
		info.inline = elems
	}
	var key []string
	for _, ty := range types {
		k := nftSetTypes[ty]
		if (k == "ipv4_addr" || k == "ipv6_addr") && s.HasFlag("interval") {
			k = strings.Replace(k, "_addr", "_net", 1)
		}
		if k == "" {
			key = nil
			break
		}
		key = append(key, k)
		if strings.HasPrefix(k, "ipv4") {
			info.fam = "ipv4"
		} else if strings.HasPrefix(k, "ipv6") {
			info.fam = "ipv6"
		}
	}
	hasRange := false
	for _, e := range elems {
		if strings.Contains(e, "-") && !strings.Contains(e, ":") && !strings.Contains(e, ".") || strings.Contains(e, "/") && len(key) == 1 && key[0] == "port" {
			hasRange = true
		}
	}
	fits := len(key) > 0 && ok && !(len(key) > 1 && s.HasFlag("interval")) && !(key[0] == "port" && hasRange) && !(len(key) == 1 && key[0] == "iface" && hasWildcard(elems))
	if fits && !validName(s.Name) {
		fits = false
	}
	if fits && names[s.Name] {
		fits = false
	}
	if !fits {
		if !constant {
			why := "set " + s.Name
			switch {
			case len(key) == 0:
				why += " of type " + strings.Join(types, " . ")
			case !validName(s.Name) || names[s.Name]:
				why += " (its name is not a free fwc name)"
			default:
				why += " (its elements)"
			}
			info.why = why
			nc.c.ds.Add(diag.Error, CodeSetType, s.Range, why+" has no fwc equivalent", "The set is written as a comment and the rules that match it are not imported.")
			fmt.Fprintf(out, "# not imported: set %s of table %s %s\n", s.Name, t.Family, t.Name)
		}
		return info
	}
	names[s.Name] = true
	info.name, info.key = s.Name, strings.Join(key, " . ")
	fmt.Fprintf(out, "set %s : %s {\n", s.Name, info.key)
	if s.Timeout != "" {
		if d, ok := nftDuration(s.Timeout); ok {
			fmt.Fprintf(out, "\ttimeout %s\n", d)
		}
	}
	if s.Size != "" && uintIn(s.Size, 1, 1<<32-1) {
		fmt.Fprintf(out, "\tsize %s\n", s.Size)
	}
	if len(elems) > 0 {
		fmt.Fprintf(out, "\telements { %s }\n", strings.Join(elems, ", "))
	}
	out.WriteString("}\n")
	return info
}

func hasWildcard(es []string) bool {
	for _, e := range es {
		if strings.HasSuffix(e, "*") {
			return true
		}
	}
	return false
}

// elements writes set elements in fwc's spelling.
func (nc *nftConv) elements(es []*nft.Expr) ([]string, bool) {
	var out []string
	for _, e := range es {
		if e.Kind == nft.ExprSet {
			// A define of a set used inside a set: nft flattens it.
			vs, ok := nc.elements(e.Args)
			if !ok {
				return nil, false
			}
			out = append(out, vs...)
			continue
		}
		v, ok := nftValue(e)
		if !ok {
			return nil, false
		}
		if e.Timeout != "" {
			d, ok := nftDuration(e.Timeout)
			if !ok {
				return nil, false
			}
			v += " timeout " + d
		}
		out = append(out, v)
	}
	return out, true
}

// nftDuration turns nft's "1h2m3s", "10s", "500ms" or seconds into fwc's.
func nftDuration(s string) (string, bool) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return strconv.FormatUint(n, 10) + "s", true
	}
	total, num := 0.0, ""
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			num += string(ch)
		default:
			unit := string(ch)
			if ch == 'm' && i+1 < len(s) && s[i+1] == 's' {
				unit = "ms"
				i++
			}
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return "", false
			}
			mult := map[string]float64{"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
			if mult == 0 {
				return "", false
			}
			total += v * mult
			num = ""
		}
	}
	if num != "" || total <= 0 || total > 1<<32-1 || total != float64(int64(total)) {
		return "", false
	}
	return strconv.FormatInt(int64(total), 10) + "s", true
}

// nftValue writes a single value (element) in fwc's spelling.
func nftValue(e *nft.Expr) (string, bool) {
	switch e.Kind {
	case nft.ExprLit:
		t := e.Text
		if t == "" || strings.ContainsAny(t, " \t\"{},;#$@") {
			return "", false
		}
		if p, ok := parseAddr(t); ok {
			return addrText(p), true
		}
		return t, true
	case nft.ExprRange:
		a, ok1 := nftValue(e.Args[0])
		b, ok2 := nftValue(e.Args[1])
		return a + "-" + b, ok1 && ok2
	case nft.ExprConcat:
		var parts []string
		for _, a := range e.Args {
			v, ok := nftValue(a)
			if !ok {
				return "", false
			}
			parts = append(parts, v)
		}
		return strings.Join(parts, " . "), true
	}
	return "", false
}
