// Package passes lists fwc's lint passes. Each pass lives in its own
// package under check/passes, with its codes in its own hundred; All is what
// `fwc check` runs.
//
//	FW10xx correlated   rules with different verdicts overlapping in order (check/space)
//	FW109x assert       assert declarations proven for every packet (check/space)
//	FW11xx shadow       rules earlier rules with another verdict cover, rules contradicting themselves (check/space)
//	FW12xx redundant    rules earlier rules with the same verdict cover (check/space)
//	FW13xx hygiene      drop-by-default input without established, ND, ssh, loopback
//	FW131x unaddressed  DHCP and DHCPv6 accepted only from a zone's net, which new clients are not in
//	FW14xx ifacedir     iif/oif in hooks without that interface, through jumps
//	FW15xx chains       unreachable user chains, jump loops
//	FW16xx verdictflow  dead rules, logs that decide nothing, actions after a verdict
//	FW17xx placement    table/hook, NAT and routing-mark placement, ct state after notrack
//	FW172x portfwd      port forwards the forward chain drops, zone dnat to a zone behind NAT
//	FW18xx routing      route marks never set, unbound marks, colliding routes
//	FW186x sysctls      NAT or forwarding with ip_forward left off, strict rp_filter with policy routing
//	FW19xx capability   constructs a requested backend cannot express (FW1900-FW1989)
//	FW199x              the framework: suppression comments, failed passes (package analysis)
//
// graph is not a pass but the shared chain call graph the others require.
package passes

import (
	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/passes/assert"
	"github.com/fwcproject/fwc/check/passes/capability"
	"github.com/fwcproject/fwc/check/passes/chains"
	"github.com/fwcproject/fwc/check/passes/correlated"
	"github.com/fwcproject/fwc/check/passes/hygiene"
	"github.com/fwcproject/fwc/check/passes/ifacedir"
	"github.com/fwcproject/fwc/check/passes/internal/graph"
	"github.com/fwcproject/fwc/check/passes/placement"
	"github.com/fwcproject/fwc/check/passes/portfwd"
	"github.com/fwcproject/fwc/check/passes/redundant"
	"github.com/fwcproject/fwc/check/passes/routing"
	"github.com/fwcproject/fwc/check/passes/shadow"
	"github.com/fwcproject/fwc/check/passes/sysctls"
	"github.com/fwcproject/fwc/check/passes/unaddressed"
	"github.com/fwcproject/fwc/check/passes/verdictflow"
)

// All is every lint pass, in no particular order (analysis.Run orders them
// by their requirements).
var All = []*analysis.Analyzer{
	graph.Analyzer,
	chains.Analyzer,
	ifacedir.Analyzer,
	verdictflow.Analyzer,
	placement.Analyzer,
	portfwd.Analyzer,
	routing.Analyzer,
	sysctls.Analyzer,
	hygiene.Analyzer,
	unaddressed.Analyzer,
	capability.Analyzer,
	shadow.Analyzer,
	shadow.Contradictions,
	redundant.Analyzer,
	correlated.Analyzer,
	assert.Analyzer,
}
