// Package chains checks the shape of the chain call graph.
//
// # Analyzer chains
//
// chains: unreachable chains and jump loops
//
// Reports user chains that no base chain reaches and jumps that form loops.
//
// It models jumps and gotos between chains of one table (chains of
// different tables never call each other) and which base chains reach
// which user chains; it looks at no packet fields.
//
// The rules of an unreachable chain never run, so FW1501 is all they get:
// the pass's result (analysis.Muter) mutes the other passes' warnings and
// infos inside them, as verdictflow does for rules after a catch-all.
// Errors stay: the chain is still emitted.
//
// # FW1501: unreachable user chain
//
// A user chain runs only when a rule jumps (or goes) to it from a base chain,
// directly or through other user chains. Nothing reaches this chain: either no
// rule jumps to it, or only chains that are themselves unreachable do. Its rules
// never run. Add a jump from the base chain where it belongs, or remove it.
// This is the only warning the chain's rules get: no other lint warning or
// info is reported inside it (errors still are, since the chain is still
// emitted).
//
// # FW1502: jump loop
//
// These chains jump (or go) to each other in a circle. A packet could be passed
// around forever, so the kernel refuses the whole ruleset (nft and
// iptables-restore both fail with "Too many levels of links", ELOOP), whatever
// the conditions of the jumping rules. The related positions list the jumps of
// the loop in order. Break the loop.
//
// # FW1503: unconditional jump into the same chain
//
// A rule without conditions jumps (or goes) back into the chain it is in: every
// packet reaching it would loop forever, and the kernel refuses the ruleset
// (ELOOP). A "return" was probably meant, or a jump to another chain.
package chains

import _ "embed" // for doc

//go:embed doc.go
var doc string
