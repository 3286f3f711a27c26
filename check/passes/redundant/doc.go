// Package redundant reports rules that can be removed without changing
// what the policy does.
//
// # Analyzer redundant
//
// redundant: redundant rules
//
// Reports rules covered by earlier rules with the same verdict, and rules that
// only repeat the chain's policy.
//
// It uses the same exact model of packets as the shadow pass (see package
// shadow for the fields, and for the rules that "may not match" and so never
// cover another): every base chain in both families, every user chain in the
// context of each jump that reaches it.
//
// A rule covered by an unconditional verdict in its own chain is left to
// the verdictflow pass (FW1601).
//
// Both codes are warnings: the policy does what it says, but a rule that
// does nothing misleads the next reader into thinking it matters.
//
// # FW1201: redundant rule
//
// Earlier rules with the same verdict match every packet this rule matches,
// so it never fires and deleting it changes nothing. The notes list those
// rules; the rule may be covered by several of them together, or through the
// elements of a named set. Rules with another verdict may decide some of its
// packets before them (an exception written before a broad rule); they do so
// with or without this rule, and moving this rule above them would override
// them, which is why the finding is "redundant" and not "shadowed". Rules
// with a rate limit, meter, time, probability or string match, and lookups
// in sets with a timeout, never count as covering.
//
// # FW1202: rule repeats the chain policy
//
// The rule's verdict is the chain's policy (for a user chain: return, what
// falling off its end does), and no later rule would treat its packets
// differently if it were removed: they would reach the policy anyway.
// Deleting the rule changes nothing. It is reported only when the rule has no
// side effect of its own (log, counter, mark) and no later rule that may see
// its packets has another verdict, a jump, a log or counter, or a condition
// the analysis cannot decide. Zone-level rules and zone policies are never
// reported: the chains zones compile into, and their policies, are not
// written by hand, so "the chain does this anyway" would be a riddle there.
package redundant

import _ "embed" // for doc

//go:embed doc.go
var doc string
