package verdictflow_test

import (
	"testing"

	"github.com/fwcproject/fwc/check/analysis"
	"github.com/fwcproject/fwc/check/analysis/analysistest"
	. "github.com/fwcproject/fwc/check/passes/internal/ptest"
	"github.com/fwcproject/fwc/check/passes/verdictflow"
	"github.com/fwcproject/fwc/check/policy"
)

func TestDeadCode(t *testing.T) {
	b := New()
	f := b.Table("filter")
	in := b.Base(f, policy.Input, "drop")
	b.Rule(in, TCP(), Dport(22), Accept())
	b.Rule(in, Drop())
	b.Rule(in, TCP(), Dport(80), Accept(), W(`FW1601 "rule is never reached: an earlier rule drops every packet"`))
	b.Rule(in, TCP(), Dport(443), Accept()) // reported once, at the first

	// A family-restricted catch-all only stops that family.
	out := b.Base(f, policy.Output, "accept")
	b.Rule(out, policy.IPv4, Reject())
	b.Rule(out, TCP(), Accept())
	b.Rule(out, policy.IPv4, UDP(), Accept(), W(`FW1601 "earlier rule rejects every packet"`))

	// Conditional verdicts and jumps do not end the chain; neither does a
	// log-only rule.
	fwd := b.Base(f, policy.Forward, "drop")
	web := b.Chain(f, "web")
	b.Rule(fwd, TCP(), Drop())
	b.Rule(fwd, Jump(web))
	b.Rule(fwd, Log("fwd: "))
	b.Rule(fwd, Accept())
	b.Rule(web, Return())
	b.Rule(web, Accept(), W(`FW1601 "earlier rule returns every packet"`))

	// goto is terminal.
	n := b.Table("nat")
	pre := b.Base(n, policy.Prerouting, "")
	b.Rule(pre, Goto(web))
	b.Rule(pre, &policy.NAT{Kind: policy.Redirect}, W(`FW1601 "goto web"`))
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, verdictflow.Analyzer)
}

func TestLogs(t *testing.T) {
	b := New()
	f := b.Table("filter")
	// Accept-policy chain ending in a log: the log was meant to block.
	out := b.Base(f, policy.Output, "accept")
	b.Rule(out, TCP(), Dport(25), Log("smtp: "), W(`FW1602 "log without a verdict: the packets it logs are accepted"`))

	// Log then drop with the same conditions: the idiom, fine.
	fwd := b.Base(f, policy.Forward, "accept")
	b.Rule(fwd, TCP(), Dport(23), Log("telnet dropped: "))
	b.Rule(fwd, TCP(), Dport(23), Drop())
	// A log followed by a drop of other packets.
	b.Rule(fwd, TCP(), Dport(24), Log("DROP 24: "), W(`FW1603 "log prefix \"DROP 24: \" says blocked, but nothing drops"`))
	b.Rule(fwd, TCP(), Dport(25), Drop())
	// log and drop in one rule: fine.
	b.Rule(fwd, UDP(), Log("BLOCK udp: "), Drop())

	// Drop-policy input: a final log is followed by the policy's drop.
	in := b.Base(f, policy.Input, "drop")
	b.Rule(in, Ct(policy.CtNew), Log("Connection In: ")) // audit log, not a block: fine
	b.Rule(in, Ct(policy.CtInvalid), Log("invalid denied: "), W(`FW1603 "invalid denied"`))
	b.Rule(in, TCP(), Dport(22), Accept())
	b.Rule(in, Log("input drop: "))

	// Accept-policy chain where a later rule may drop: no FW1602.
	pre := b.Base(b.Table("mangle"), policy.Prerouting, "accept")
	b.Rule(pre, Log("pre: "))
	b.Rule(pre, UDP(), Drop())
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, verdictflow.Analyzer)
}

func TestAfterTerminal(t *testing.T) {
	b := New()
	f := b.Table("filter")
	in := b.Base(f, policy.Input, "drop")
	b.Rule(in, TCP(), Drop(), Log("x: "), W(`FW1604 "log after drop never runs"`))
	b.Rule(in, UDP(), Accept(), SetMark(1), W(`FW1604 "mark set after accept never runs"`))
	b.Rule(in, Proto(policy.ProtoICMP), Log("icmp: "), Reject())
	b.Rule(in, Proto(policy.ProtoSCTP), Jump(in), Log("back: ")) // a jump returns: fine
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, verdictflow.Analyzer)
}

func TestResult(t *testing.T) {
	b := New()
	in := b.Base(b.Table("filter"), policy.Input, "drop")
	b.Rule(in, TCP(), Accept())
	stop := b.Rule(in, Drop())
	d1 := b.Rule(in, UDP(), Accept(), W(`FW1601 "never reached"`))
	d2 := b.Rule(in, Accept())
	var res *verdictflow.Result
	probe := &analysis.Analyzer{Name: "probe", Requires: []*analysis.Analyzer{verdictflow.Analyzer}, Run: func(p *analysis.Pass) (any, error) {
		res = p.ResultOf[verdictflow.Analyzer].(*verdictflow.Result)
		return nil, nil
	}}
	analysistest.RunProgram(t, b.Prog, analysis.Options{}, probe)
	if len(res.Dead) != 2 || res.Dead[d1] != stop || res.Dead[d2] != stop {
		t.Errorf("Dead = %v, want both rules after the drop", res.Dead)
	}
}
