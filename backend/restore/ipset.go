package restore

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/limits"
	"github.com/fwcproject/fwc/policy"
)

// setPlan is computed the same way by every output, so rules.v4, rules.v6
// and the ipset text agree on generated set names.
type setPlan struct {
	// gen holds the sets made for address lists iptables cannot write
	// inline: negated lists and lists with ranges, or lists in rules with
	// stateful matches (which -s a,b would duplicate).
	gen map[*policy.AddrCond]*ir.Set
	// sets in output order: named ones then generated ones.
	sets []*ir.Set
	// typ is the ipset type of each set ipset can hold; sets of interfaces
	// or marks are expanded into the rules instead.
	// Both are keyed by set name: a rule's condition names the policy's
	// set, the ruleset declares an ir.Set of the same name.
	typ map[string]string
	// protos lists the port protocols a set's port parts are used with.
	protos map[string][]policy.Proto
}

func planSets(rs *ir.Ruleset) *setPlan {
	p := &setPlan{gen: map[*policy.AddrCond]*ir.Set{}, typ: map[string]string{}, protos: map[string][]policy.Proto{}}
	for _, s := range rs.Sets {
		if s.Dynamic {
			continue
		}
		if t, ok := ipsetType(s); ok {
			p.typ[s.Name] = t
		}
		p.sets = append(p.sets, s)
	}
	n := map[ir.Family]int{}
	for _, t := range rs.Tables {
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				stateful := slices.ContainsFunc(r.Matches, func(m policy.Cond) bool {
					switch m.(type) {
					case *policy.LimitCond, *ir.Meter, *ir.Connlimit, *policy.ProbCond:
						return true
					}
					return false
				})
				for _, m := range r.Matches {
					switch m := m.(type) {
					case *policy.AddrCond:
						if m.Set != nil || len(m.Items) < 2 {
							continue
						}
						if !m.Neg && !stateful && !slices.ContainsFunc(m.Items, policy.AddrItem.IsRange) {
							continue
						}
						n[r.Family]++
						v := "4"
						typ := policy.IPv4Net
						if r.Family == ir.IPv6 {
							v, typ = "6", policy.IPv6Net
						}
						s := &ir.Set{Name: "fwc-v" + v + "-" + strconv.Itoa(n[r.Family]), Type: []policy.SetType{typ},
							Family: r.Family, Interval: true}
						for _, it := range m.Items {
							s.Elements = append(s.Elements, policy.SetElem{Parts: []policy.SetValue{{Addr: it}}})
						}
						p.gen[m] = s
						p.typ[s.Name] = "hash:net"
						p.sets = append(p.sets, s)
					case *policy.ConcatCond:
						if pr := portProtoOf(r); pr != 0 && !slices.Contains(p.protos[m.Set.Name], pr) {
							p.protos[m.Set.Name] = append(p.protos[m.Set.Name], pr)
						}
					}
				}
			}
		}
	}
	return p
}

func portProtoOf(r *ir.Rule) policy.Proto {
	if pr := r.PortProto(); pr != 0 && slices.ContainsFunc(r.Matches, func(m policy.Cond) bool {
		_, ok := m.(*policy.ConcatCond)
		return ok
	}) {
		return pr
	}
	return singleProto(r)
}

// ipsetType maps a set type to an ipset type (package limits says which
// set types iptables can look up, for the checker too).
func ipsetType(s *ir.Set) (string, bool) { return limits.IpsetType(s.Type) }

// IPSet returns `ipset restore` text creating every named set the iptables
// rules reference, with its elements, IPv4 and IPv6 alike. It loads again
// over itself (a reload at boot, or after an edit): each set is created
// with -exist, so that an existing one of the same definition is kept (the
// loaded rules reference it, and a referenced set cannot be destroyed),
// then flushed and filled, so that it holds the policy's elements and no
// others. A set whose definition changed cannot be reused: ipset refuses
// to create it over the old one, and the reload fails without touching it.
// Sets of
// interfaces or marks alone have no ipset type: the rules list their
// elements instead, and they are left out here.
func IPSet(rs *ir.Ruleset) ([]byte, diag.Diagnostics) { return Options{}.IPSet(rs) }

// IPSet is the package's IPSet with these options.
func (o Options) IPSet(rs *ir.Ruleset) ([]byte, diag.Diagnostics) {
	p := planSets(o.merged(rs))
	var b strings.Builder
	var ds diag.Diagnostics
	for _, s := range p.sets {
		t, ok := p.typ[s.Name]
		if !ok {
			if len(s.Type) == 1 && (s.Type[0] == policy.IfaceT || s.Type[0] == policy.MarkT) {
				continue
			}
			ds.Add(diag.Error, "FW2003", diag.Range{}, fmt.Sprintf("ipset has no type for set %s", s.Name),
				"ipset types hold addresses or networks with at most a port, interface or mark, or ports alone.")
			continue
		}
		fmt.Fprintf(&b, "create %s %s", s.Name, t)
		if t == "bitmap:port" {
			b.WriteString(" range 0-65535")
		} else if s.Family == ir.IPv6 {
			b.WriteString(" family inet6")
		} else {
			b.WriteString(" family inet")
		}
		hasElemTimeout := slices.ContainsFunc(s.Elements, func(e policy.SetElem) bool { return e.Timeout > 0 })
		if s.Timeout > 0 || hasElemTimeout {
			fmt.Fprintf(&b, " timeout %d", int64(s.Timeout.Seconds()))
		}
		if s.Size > 0 {
			fmt.Fprintf(&b, " maxelem %d", s.Size)
		}
		fmt.Fprintf(&b, " -exist\nflush %s\n", s.Name)
		protos := p.protos[s.Name]
		if len(protos) == 0 {
			protos = []policy.Proto{policy.ProtoTCP}
		}
		for _, e := range s.Elements {
			hasPort := slices.Contains(s.Type, policy.PortType) && len(s.Type) > 1
			ps := protos
			if !hasPort {
				ps = ps[:1]
			}
			for _, pr := range ps {
				fmt.Fprintf(&b, "add %s %s", s.Name, elemText(s, e, pr))
				if e.Timeout > 0 {
					fmt.Fprintf(&b, " timeout %d", int64(e.Timeout.Seconds()))
				}
				b.WriteString("\n")
			}
		}
	}
	return []byte(b.String()), ds
}

func elemText(s *ir.Set, e policy.SetElem, pr policy.Proto) string {
	var parts []string
	for i, v := range e.Parts {
		if i >= len(s.Type) {
			break
		}
		switch s.Type[i] {
		case policy.IPv4Addr, policy.IPv6Addr, policy.IPv4Net, policy.IPv6Net:
			parts = append(parts, ir.AddrString(v.Addr))
		case policy.PortType:
			if len(s.Type) > 1 {
				parts = append(parts, pr.Name()+":"+strconv.Itoa(int(v.Port)))
			} else {
				parts = append(parts, strconv.Itoa(int(v.Port)))
			}
		case policy.IfaceT:
			parts = append(parts, v.Iface)
		case policy.MarkT:
			parts = append(parts, fmt.Sprintf("0x%x", v.Mark))
		}
	}
	return strings.Join(parts, ",")
}
