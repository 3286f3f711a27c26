// Package equiv compares two checked policies by what they do to packets:
// `fwc diff OLD NEW` and `fwc plan --semantic`. It sits after check/space
// in the pipeline and before ir: it reads policy programs, asks package
// sem what every condition means (the region of the packet space it
// holds on, the one semantics lint, trace and apply's lock-out check use)
// and finds the rules a piece of that space can meet with check/space's
// chain index.
//
// # What is compared
//
// For each address family and each hook, the hook's outcome for every
// packet entering it: the base chains of the hook in the kernel's order
// (by priority), each rule in order, jumps and gotos followed, returns
// honoured; the final verdict (accept, drop, reject with its type), and
// the changes that outlive the hook in order (NAT, mark and ct mark sets,
// notrack). Logging and counting change no packet's fate and are ignored.
// A mark set by a rule is carried to the later mark conditions of the
// hook (a constant mark is known exactly; one copied or masked from an
// unknown value makes later mark conditions opaque, see below).
// Comparing per hook is stricter than end to end: a drop moved from
// prerouting to input is a difference on both hooks. The nat chains see
// only a connection's first packet (ct state new), as in the kernel. A NAT
// rewrite is recorded as an effect, but the later chains of the same hook
// still read the addresses and ports the packet entered with (a filter
// chain on prerouting after a dnat is rare; the walker of check/space
// reads them the same way).
//
// Conditions sem does not model (rate limits, meters, connlimit, time,
// probability, payload strings, sets filled at run time, fields such as
// pkttype) are opaque: the evaluation follows both answers, records each
// as a guard ("if limit rate ... (file:line)"), and two outcomes are
// compared only when no opaque condition was taken to hold in one and
// not in the other. Opaque conditions are identified by their text and
// taken as independent of each other and of the packet's fields: the same
// limit at the same place in both policies is no difference, while one
// written two ways that mean the same may be reported as one.
//
// # Method
//
// A policy's outcome over the whole space is a partition that can
// fragment badly (a union of cubes whose complement splits into many),
// so it is not computed. Instead each hook's rule list (every base chain
// and its rules, a jump's rule standing for its target chain's content
// rather than its name) is aligned with the other policy's: each rule is
// keyed by what it does to which packets (its region, opaque conditions,
// action), and a common subsequence of the two lists is found as patience
// diff does (keys unique on both sides anchor it; equal neighbours extend
// it). A packet that matches only rules of the common subsequence matches
// the same rules in the same order in both policies, so its outcome is
// the same: differences lie inside the regions of the rules left out
// (all of the hook when its base chains differ). Only those regions,
// made disjoint, are evaluated, in both policies: a piece is split rule
// by rule (the candidates from the chain index, the remainder by cube
// subtraction), so the work follows the size of the change, not of the
// policies. Where the two partitions of a piece disagree, the
// intersection is a difference class; classes with the same outcomes and
// the same responsible rules are merged.
//
// Reordering rules that match no common packet, renaming zones, sets and
// chains, merging rules into a list or a set, or splitting a rule by
// family leave every packet's outcome alone, and the comparison finds no
// class (the tests rewrite random policies so and check).
//
// # Witnesses
//
// Each class carries a witness: one packet of the class, chosen to be one
// a reader recognises and a test can send (udp or tcp, ct state new,
// tcp flag syn, source port 40000, documentation addresses, interfaces
// the policies name). Words writes it in fwc's match words. The kernel
// test sends the witnesses of random edits through both policies loaded
// with nft and checks that the kernel gives the verdicts claimed.
//
// # Cost
//
// BenchmarkCompare measures two 10,000-rule generated policies
// (internal/polgen): differing by one edited rule and a swap, Compare
// takes about 0.2 s of CPU; when everything differs (two seeds), every
// rule's region is evaluated, about 0.8 s. On internal/sitegen's
// policies an edit of 10,000 rules takes about 0.6 s, but two unrelated
// site policies of 300 rules take seconds: their base chains differ, the
// whole hooks are evaluated, and the partition fragments. docs/diff.md
// has the figures of the whole command.
package equiv
