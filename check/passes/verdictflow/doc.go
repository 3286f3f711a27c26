// Package verdictflow checks the order of verdicts within chains and
// within rules.
//
// # Analyzer verdictflow
//
// verdictflow: verdict order: dead rules and actions, logs that decide nothing
//
// Reports rules after an unconditional verdict, actions after a terminal
// action, and logs written where a verdict was meant.
//
// It models, per chain, which rules end evaluation for every packet (a rule
// without conditions whose actions include a terminal one: accept, drop,
// reject, return, goto, NAT or balance; a rule restricted to one family ends
// it only for that family) and the actions of each rule in order. It does not
// compare packet sets: a rule covered by a union of earlier conditional rules
// is the shadow and redundancy passes' business.
//
// The pass's result (a *Result) lists every dead rule with the rule that
// stops it, so that the packet-space passes, which would also find these
// rules covered, can leave them to FW1601 by requiring this analyzer. The
// result also mutes (analysis.Muter) every other warning or info whose
// subject lies in a source rule that is never reached in any chain it was
// placed in: such a rule gets FW1601 and nothing else (a log that never runs
// is not "a log that says blocked"). Errors are kept: a dead rule is still
// emitted, so what a backend or the kernel would refuse in it still matters.
//
// # FW1601: rule after an unconditional verdict
//
// An earlier rule in the same chain has no conditions and ends evaluation
// (accept, drop, reject, return, goto or NAT): every packet that reaches it
// stops there, so the rules after it never run. (A rule restricted to one
// family stops only that family.) Move the catch-all rule to the end, or
// remove the dead rules. FW1601 is reported once, at the first dead rule, and
// is the only warning the dead rules get: no other lint is reported on a rule
// that never runs (errors still are, since the rule is still emitted).
//
// # FW1602: log with no verdict in an accept-policy chain
//
// This rule only logs (log is not a verdict: evaluation goes on with the next
// rule), no later rule of the chain can drop the packets it logs, and the
// chain's policy is accept: everything it logs is accepted. If the rule was
// meant to block, add "drop" after the log in the same rule.
//
// # FW1603: log says blocked but nothing drops
//
// The log prefix says the packet is dropped (it holds "drop", "deny",
// "denied", "block", "reject", "refuse" or "ban"), but log is not a verdict
// and nothing drops the logged packets right after: not the rule itself, not
// the next rule with the same conditions (or with none), and not the drop
// policy at the end of its base chain with no accepting rule in between.
// Write the verdict in the same rule: log prefix "..." drop.
//
// # FW1604: action after a terminal verdict
//
// Actions run in order, and a terminal action (accept, drop, reject, return,
// goto, snat, dnat, masquerade, redirect) ends evaluation: the actions written
// after it in the same rule never run. Write log, counter or mark first, then
// the verdict: log prefix "x: " drop.
package verdictflow

import _ "embed" // for doc

//go:embed doc.go
var doc string
