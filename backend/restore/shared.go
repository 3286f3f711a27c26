package restore

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// ChainPrefix starts the name of every chain fwc owns when it shares
// iptables' tables with other programs (docker, kube-proxy, fail2ban):
// see Shared.
const ChainPrefix = "fwc-"

// maxChainName is the longest chain name iptables takes
// (XT_EXTENSION_MAXNAMELEN less its NUL).
const maxChainName = 28

// sharedName is the name of the policy's user chain name in fwc's part
// of iptables: ChainPrefix and the name, or, when that is longer than
// iptables takes, the start of the name and a digest of the whole, so
// that distinct names stay distinct.
func sharedName(name string) string {
	n := ChainPrefix + name
	if len(n) <= maxChainName {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	sum := fmt.Sprintf("-%08x", h.Sum32())
	return n[:maxChainName-len(sum)] + sum
}

// JumpComment is the comment of the rule by which a built-in chain jumps
// to fwc's chain: it tells fwc's jumps from the others'.
const JumpComment = "fwc"

// SharedTable is one table of a ruleset written to share iptables with
// other programs. Every chain is fwc's own, named after ChainPrefix: a
// base chain of the policy becomes the user chain ChainPrefix+HOOK
// ("fwc-INPUT"), which the built-in chain HOOK jumps to, and which ends in
// "-j DROP" when the policy's chain drops by default. Built-in chains and
// their policies are left to the host: a packet fwc's chain does not
// decide returns to the built-in chain and goes on through the other
// programs' rules.
type SharedTable struct {
	Name string
	// Hooks are the built-in chains that jump to fwc's chain of the same
	// hook (ChainPrefix+hook), in iptables-save order.
	Hooks []string
	// Chains are fwc's chains, base chains first; Rules their rules as
	// iptables-restore lines ("-A fwc-INPUT ..."), in order.
	Chains []string
	Rules  []string
}

// Jump is the rule (after "-A HOOK " or "-I HOOK 1 ") by which the
// built-in chain hook jumps to fwc's chain.
func Jump(hook string) string {
	return "-m comment --comment " + JumpComment + " -j " + ChainPrefix + hook
}

// SharedIPv4 returns rs's IPv4 rules written to share the tables (see
// SharedTable).
func SharedIPv4(rs *ir.Ruleset) ([]SharedTable, diag.Diagnostics) {
	return newWriter(rs).shared(ir.IPv4)
}

// SharedIPv6 is SharedIPv4 for the IPv6 rules.
func SharedIPv6(rs *ir.Ruleset) ([]SharedTable, diag.Diagnostics) {
	return newWriter(rs).shared(ir.IPv6)
}

func (w *writer) shared(f ir.Family) ([]SharedTable, diag.Diagnostics) {
	w.fam, w.prefix, w.dropBase = f, ChainPrefix, map[string]bool{}
	var out []SharedTable
	for _, t := range w.rs.Tables {
		st := SharedTable{Name: t.Name}
		for _, h := range builtin[t.Name] {
			for _, c := range t.Chains {
				if c.Hook == h {
					st.Hooks = append(st.Hooks, strings.ToUpper(string(h)))
					if c.Policy == policy.Drop {
						w.dropBase[w.chainName(c)] = true
					}
				}
			}
		}
		body, extra := w.tableBody(t)
		for _, ct := range append(body, extra...) {
			st.Chains = append(st.Chains, ct.name)
			for _, l := range ct.lines {
				st.Rules = append(st.Rules, "-A "+ct.name+" "+l)
			}
			if w.dropBase[ct.name] {
				st.Rules = append(st.Rules, "-A "+ct.name+" -m comment --comment "+Quote("fwc policy")+" -j DROP")
			}
		}
		// A table with no rule for this family (the IPv6 side of an IPv4
		// DNAT, say) is left out: its chains would filter nothing.
		if len(st.Rules) > 0 {
			out = append(out, st)
		}
	}
	return out, w.diags
}
