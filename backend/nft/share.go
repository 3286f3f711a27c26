package nft

import (
	"slices"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// sharedMin is how many rules must carry the same list of ports before the
// list becomes one named set.
const sharedMin = 16

// maxSharedName bounds a shared set's name made of its ports; longer lists
// are numbered instead.
const maxSharedName = 48

// shared holds the port lists that many rules repeat (tcp dport { 80, 443 }
// in every rule of a web service), each as one named set. The kernel binds
// every anonymous set by walking the whole pending transaction, so ten
// thousand rules with their own { 80, 443 } take the kernel minutes to load,
// nft -f as much as a netlink batch, where one shared set costs nothing.
// Lists that few rules carry stay inline, where they read best. Only lists
// of single ports are shared (a named set of fwc's holds no port ranges).
type shared struct {
	sets  []*ir.Set
	ports map[*policy.PortCond]*ir.Set
}

// share finds the lists to share in the merged ruleset rs; the names avoid
// those of rs's own sets.
func share(rs *ir.Ruleset) *shared {
	sh := &shared{}
	count := map[string]int{}
	var order []string
	first := map[string]*policy.PortCond{}
	listKey := func(m *policy.PortCond) (string, bool) {
		if m.Set != nil || len(m.Ranges) < 2 {
			return "", false
		}
		var b strings.Builder
		for i, r := range m.Ranges {
			if r.Lo != r.Hi {
				return "", false
			}
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteString(strconv.Itoa(int(r.Lo)))
		}
		return b.String(), true
	}
	each := func(f func(*policy.PortCond)) {
		for _, t := range rs.Tables {
			for _, c := range t.Chains {
				for _, r := range c.Rules {
					for _, m := range r.Matches {
						if p, ok := m.(*policy.PortCond); ok {
							f(p)
						}
					}
				}
			}
		}
	}
	each(func(p *policy.PortCond) {
		k, ok := listKey(p)
		if !ok {
			return
		}
		if count[k] == 0 {
			order = append(order, k)
			first[k] = p
		}
		count[k]++
	})
	taken := map[string]bool{}
	for _, s := range rs.Sets {
		taken[s.Name] = true
	}
	byKey := map[string]*ir.Set{}
	for _, k := range order {
		if count[k] < sharedMin {
			continue
		}
		name := "fwc_ports_" + k
		if len(name) > maxSharedName {
			name = "fwc_ports_" + strconv.Itoa(len(sh.sets))
		}
		for taken[name] {
			name += "_"
		}
		taken[name] = true
		s := &ir.Set{Name: name, Type: []policy.SetType{policy.PortType}, Family: ir.Both}
		for _, r := range first[k].Ranges {
			s.Elements = append(s.Elements, policy.SetElem{Parts: []policy.SetValue{{Port: r.Lo}}})
		}
		sh.sets = append(sh.sets, s)
		byKey[k] = s
	}
	if len(sh.sets) == 0 {
		return sh
	}
	sh.ports = map[*policy.PortCond]*ir.Set{}
	each(func(p *policy.PortCond) {
		if k, ok := listKey(p); ok && byKey[k] != nil {
			sh.ports[p] = byKey[k]
		}
	})
	return sh
}

// allSets returns rs's sets and then the shared ones, in the order both the
// script and the batch declare them.
func (sh *shared) allSets(rs *ir.Ruleset) []*ir.Set {
	if len(sh.sets) == 0 {
		return rs.Sets
	}
	return slices.Concat(rs.Sets, sh.sets)
}

// set returns the set standing for m's literal list, nil if none does.
func (sh *shared) set(m *policy.PortCond) *ir.Set {
	if sh == nil {
		return nil
	}
	return sh.ports[m]
}
