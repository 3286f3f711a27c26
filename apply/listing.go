package apply

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Table is fwc's nftables table as nft lists it (`nft -s list table inet
// fwc`), split into the parts a plan compares.
type Table struct {
	// Text is the listing as nft printed it; empty when the table is absent.
	Text string
	// Props are the table's own lines ("flags dormant", a comment): a
	// dormant table is loaded but evaluates nothing, so they are state a
	// plan compares like any other.
	Props []string
	// Sets (named sets and maps, and every other object nft lists in the
	// table: counters, quotas, limits, ct helpers, ct timeouts, ct
	// expectations, synproxies, secmarks, flowtables) and Chains, in
	// listing order.
	Sets   []*SetListing
	Chains []*ChainListing
}

// Present reports whether the table exists.
func (t *Table) Present() bool { return t != nil && t.Text != "" }

// SetListing is one named set or map, or another named object of the
// table (a stateful object such as a counter, or a flowtable): nft keeps
// each kind in its own namespace, so Kind and Name together name it.
type SetListing struct {
	Kind string // "set", "map", "counter", "ct helper", "flowtable", ...
	Name string
	// Props are its other lines (type, flags, timeout, size, ...).
	Props []string
	// Elements, as nft prints them, without expiry times. Dynamic sets
	// (filled by packets) have none here.
	Elements []string
}

// ChainListing is one chain.
type ChainListing struct {
	Name string
	// Header is the base chain line ("type filter hook input priority
	// filter; policy drop;"), empty for a user chain.
	Header string
	Rules  []string
}

var (
	expiresRe = regexp.MustCompile(` expires [0-9dhms.]+`)
	counterRe = regexp.MustCompile(`counter packets [0-9]+ bytes [0-9]+`)
)

// parseTable splits an nft listing of one table. It accepts what nft
// prints; lines it does not know are kept as properties or rules, so
// they are still compared.
func parseTable(text string) *Table {
	t := &Table{Text: text}
	if strings.TrimSpace(text) == "" {
		t.Text = ""
		return t
	}
	var (
		set   *SetListing
		chain *ChainListing
		elems *strings.Builder
		// The rules of all chains, one after the other in one array
		// sized once: each chain's Rules is its part.
		rules = make([]string, 0, strings.Count(text, "\n"))
		first int
	)
	closeChain := func() {
		if chain != nil {
			chain.Rules = rules[first:len(rules):len(rules)]
		}
	}
	for line := range strings.SplitSeq(text, "\n") {
		s := strings.TrimSpace(line)
		if n := len(s); n > 0 && s[n-1] >= '0' && s[n-1] <= '9' {
			// Only a line that ends in a number can end in a handle.
			if i := strings.Index(s, " # handle "); i >= 0 {
				s = s[:i]
			}
		}
		if strings.Contains(s, "counter packets ") {
			// The guard spares the regexp most lines: a listing of 50,000
			// rules has few counters.
			s = counterRe.ReplaceAllString(s, "counter")
		}
		switch {
		case elems != nil:
			elems.WriteString(" " + s)
			if strings.HasSuffix(s, "}") {
				set.Elements = splitElements(elems.String())
				elems = nil
			}
		case s == "" || strings.HasPrefix(s, "table "):
		case s == "}":
			closeChain()
			set, chain = nil, nil
		case set == nil && chain == nil && strings.HasSuffix(s, "{"):
			// "chain NAME {", "set NAME {", "ct helper NAME {": the kind
			// is every word before the name.
			f := strings.Fields(s)
			if len(f) == 3 && f[0] == "chain" {
				chain = &ChainListing{Name: f[1]}
				first = len(rules)
				t.Chains = append(t.Chains, chain)
			} else if len(f) >= 3 {
				set = &SetListing{Kind: strings.Join(f[:len(f)-2], " "), Name: f[len(f)-2]}
				t.Sets = append(t.Sets, set)
			} else {
				// Not a form nft prints: keep it, so that it is compared.
				t.Props = append(t.Props, s)
			}
		case set == nil && chain == nil:
			t.Props = append(t.Props, s)
		case set != nil && strings.HasPrefix(s, "elements = {"):
			elems = &strings.Builder{}
			elems.WriteString(s)
			if strings.HasSuffix(s, "}") {
				set.Elements = splitElements(elems.String())
				elems = nil
			}
		case set != nil:
			set.Props = append(set.Props, s)
		case chain != nil && chain.Header == "" && len(rules) == first && strings.HasPrefix(s, "type ") && strings.Contains(s, " hook "):
			chain.Header = s
		case chain != nil:
			rules = append(rules, s)
		}
	}
	closeChain() // a listing cut short
	for _, s := range t.Sets {
		if s.dynamic() {
			s.Elements = nil
		}
	}
	return t
}

func (s *SetListing) dynamic() bool {
	for _, p := range s.Props {
		if strings.HasPrefix(p, "flags ") && strings.Contains(p, "dynamic") {
			return true
		}
	}
	return false
}

// splitElements splits "elements = { a, b, c }".
func splitElements(s string) []string {
	s = strings.TrimSpace(strings.TrimPrefix(s, "elements = {"))
	s = strings.TrimSpace(strings.TrimSuffix(s, "}"))
	var out []string
	for e := range strings.SplitSeq(s, ",") {
		if strings.Contains(e, " expires ") {
			e = expiresRe.ReplaceAllString(e, "")
		}
		e = strings.TrimSpace(e)
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

// A Change is one line of a plan: Op is '+' (added), '-' (removed) or '~'
// (changed in place); What names the object, Detail says what.
type Change struct {
	Op     byte
	What   string
	Detail string
}

func (c Change) String() string {
	if c.Detail == "" {
		return fmt.Sprintf("%c %s", c.Op, c.What)
	}
	return fmt.Sprintf("%c %s: %s", c.Op, c.What, c.Detail)
}

// diffTables lists what turns have into want.
func diffTables(have, want *Table) []Change {
	const tbl = "table inet fwc"
	switch {
	case !have.Present() && !want.Present():
		return nil
	case !want.Present():
		return []Change{{'-', tbl, ""}}
	}
	var out []Change
	if !have.Present() {
		out = append(out, Change{'+', tbl, ""})
		have = &Table{}
	} else if !slices.Equal(have.Props, want.Props) {
		out = append(out, Change{'~', tbl, propsOrNone(have.Props) + " → " + propsOrNone(want.Props)})
	}
	// A set and a map share a namespace; every other kind has its own.
	key := func(s *SetListing) string {
		if s.Kind == "map" {
			return "set " + s.Name
		}
		return s.Kind + " " + s.Name
	}
	hs := map[string]*SetListing{}
	for _, s := range have.Sets {
		hs[key(s)] = s
	}
	ws := map[string]bool{}
	for _, w := range want.Sets {
		ws[key(w)] = true
		what := w.Kind + " " + w.Name
		h := hs[key(w)]
		if h == nil {
			detail := strings.Join(w.Props, "; ")
			if w.Kind == "set" || w.Kind == "map" {
				detail = fmt.Sprintf("%s, %d elements", detail, len(w.Elements))
			}
			out = append(out, Change{'+', what, detail})
			continue
		}
		if !slices.Equal(h.Props, w.Props) || h.Kind != w.Kind {
			out = append(out, Change{'~', what, propsOrNone(h.Props) + " → " + propsOrNone(w.Props)})
		}
		add, del := setDiff(h.Elements, w.Elements)
		out = append(out, elementChanges('+', what, add)...)
		out = append(out, elementChanges('-', what, del)...)
	}
	for _, h := range have.Sets {
		if !ws[key(h)] {
			out = append(out, Change{'-', h.Kind + " " + h.Name, strings.Join(h.Props, "; ")})
		}
	}

	hc := map[string]*ChainListing{}
	for _, c := range have.Chains {
		hc[c.Name] = c
	}
	wc := map[string]bool{}
	for _, w := range want.Chains {
		wc[w.Name] = true
		what := "chain " + w.Name
		h := hc[w.Name]
		if h == nil {
			detail := w.Header
			if detail != "" {
				detail += " "
			}
			out = append(out, Change{'+', what, fmt.Sprintf("%s%d rules", detail, len(w.Rules))})
			for _, r := range w.Rules {
				out = append(out, Change{'+', "rule in " + w.Name, r})
			}
			continue
		}
		if h.Header != w.Header {
			out = append(out, Change{'~', what, orNone(h.Header) + " → " + orNone(w.Header)})
		}
		out = append(out, ruleDiff(w.Name, h.Rules, w.Rules)...)
	}
	for _, h := range have.Chains {
		if !wc[h.Name] {
			out = append(out, Change{'-', "chain " + h.Name, fmt.Sprintf("%d rules", len(h.Rules))})
		}
	}
	return out
}

func propsOrNone(p []string) string {
	if len(p) == 0 {
		return "(none)"
	}
	return strings.Join(p, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "(user chain)"
	}
	return s
}

// maxElementLines bounds the element lines one set contributes to a plan.
const maxElementLines = 20

func elementChanges(op byte, what string, elems []string) []Change {
	var out []Change
	for i, e := range elems {
		if i == maxElementLines {
			out = append(out, Change{op, what, fmt.Sprintf("and %d more elements", len(elems)-i)})
			break
		}
		out = append(out, Change{op, what, "element " + e})
	}
	return out
}

// setDiff returns the elements of want missing from have, and those of
// have missing from want.
func setDiff(have, want []string) (add, del []string) {
	h := map[string]bool{}
	for _, e := range have {
		h[e] = true
	}
	w := map[string]bool{}
	for _, e := range want {
		w[e] = true
		if !h[e] {
			add = append(add, e)
		}
	}
	for _, e := range have {
		if !w[e] {
			del = append(del, e)
		}
	}
	return add, del
}

// ruleDiff is a longest-common-subsequence diff of two rule lists: rule
// order matters, so a moved rule shows as removed and added. Rules are
// compared without their "file:line" comments (ruleKey): a rule that only
// moved in its file is the same rule.
func ruleDiff(chain string, have, want []string) []Change {
	if slices.Equal(have, want) {
		return nil
	}
	hk, wk := make([]string, len(have)), make([]string, len(want))
	for i, r := range have {
		hk[i] = ruleKey(r)
	}
	for i, r := range want {
		wk[i] = ruleKey(r)
	}
	// Strip the common prefix and suffix: most plans change a few rules.
	p := 0
	for p < len(hk) && p < len(wk) && hk[p] == wk[p] {
		p++
	}
	s := 0
	for s < len(hk)-p && s < len(wk)-p && hk[len(hk)-1-s] == wk[len(wk)-1-s] {
		s++
	}
	a, b := hk[p:len(hk)-s], wk[p:len(wk)-s]
	at, bt := have[p:len(have)-s], want[p:len(want)-s]
	what := "rule in " + chain
	if len(a)*len(b) > 4<<20 {
		var out []Change
		for _, r := range at {
			out = append(out, Change{'-', what, r})
		}
		for _, r := range bt {
			out = append(out, Change{'+', what, r})
		}
		return out
	}
	// lcs[i][j]: LCS length of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []Change
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			out = append(out, Change{'+', what, bt[j]})
			j++
		default:
			out = append(out, Change{'-', what, at[i]})
			i++
		}
	}
	return out
}
