// Package space represents sets of packets exactly, over the fields rules
// match, and walks a checked policy to find which rules can ever match and
// which earlier rules decide the packets of those that cannot. The shadow,
// redundant and correlated lint passes (check/passes) report from its
// Result; Analyzer shares one Result between them.
//
// # Model
//
// The packet space and what each condition means are package sem's (see
// its doc for the dimensions and the encoding): a rule's region is the
// intersection of its conditions' regions, from sem's Space.Lower, the
// same regions the concrete walk over IR (package sim) tests a packet's
// point against. Named sets count by their elements. A condition sem does
// not model exactly (a set with a timeout, rate limits, meters, connlimit,
// time, probability, string, a mark mask too scattered to expand) makes
// the rule "may not match": its region is an over-approximation (the
// condition left out), it never counts as deciding packets, and its own
// coverage is still judged. After an action that may rewrite a mark, later
// mark conditions are treated the same way, since the walk keeps the
// packet's coordinates at chain entry.
//
// A rule whose conditions leave no value of some field (two disjoint
// source networks) has an empty region and takes no part in the walk;
// Contradiction names the two conditions, for the shadow package's FW1103.
//
// The product space contains combinations no packet has (ports on icmp, a
// status on an untracked packet). They can only make a rule look live, never
// dead: a rule is reported dead only if its region minus the union of the
// earlier deciding regions is empty, and those regions are exact.
//
// # Walk
//
// Every base chain starts from all packets of its family. For each rule,
// the packets that reach it are its region, cut to the chain's scope (the
// intersection of the jumps that led there), minus the regions of the
// earlier rules that take packets out of the chain (a terminal verdict,
// a goto, or the packets a called chain decides) in this chain and, before
// the calls, in the callers: coverage by a UNION of earlier rules is found,
// not only by one. A user chain is walked once per jump or goto that reaches
// it (bounded by maxChainContexts and maxDepth; loops mark the rules
// Incomplete), and a rule is dead only if it is dead in every context.
//
// # Flow
//
// Flow (flow.go) answers another question over the same regions: what the
// whole ruleset does to a set of packets on one path across the host,
// chain after chain in kernel order, splitting the set by each rule,
// following jumps, marks and notrack. The assert pass proves asserts with
// it (prove.go), and apply proves with it that the SSH connection in use
// survives a new ruleset. TestFlowAgreesWithSim checks it against the
// concrete walk of package sim on random policies.
//
// # Cost
//
// Nothing is subtracted globally: "packets not yet decided" is never
// materialised, because the union of cubes fragments (a subtraction can
// split a cube in NDim pieces). Instead each rule asks, locally, "is my
// region covered by the earlier regions that meet it?":
//
//   - each chain has a static index (index.go) finding the cubes that meet
//     a query cube: per dimension an interval tree plus, for the cubes
//     leaving the dimension whole, a child index without that dimension.
//     A query costs O(NDim log n) plus the candidates it returns;
//   - most live rules are settled by a point probe (two corners of the
//     region, each a stabbing query: only rules holding that packet are
//     met) or by a witness built from per-dimension gaps, both without
//     enumerating every overlapping rule;
//   - rules with the same region (a blocklist drop repeated in every
//     section) share their index entries: a query meets the group once and
//     takes its first rule in the asked range of positions, since a later
//     copy matches no packet the first has not decided. Without this, every
//     rule overlapping the copies would meet each of them: quadratic;
//   - a rule lying inside the coverage of one earlier rule (found among the
//     rules holding its lowest corner, a stabbing query) is dead at once,
//     and its covers are sought only among the rules up to that one: the
//     index prunes by position, so the rules in between are never met;
//   - only dead rules, and rules whose probes fail, pay for an exact
//     subtraction; it treats "slabs" (cubes narrower than the query in one
//     dimension) together, sorting their intervals once, and splits on the
//     rest;
//   - jumps are indexed by their region cut to what the target chain can
//     act on (reach), so a broad jump (a whole /16) does not meet every
//     rule its target ignores.
//
// For k rules overlapping a rule, the work per rule is O(NDim log n + k)
// in the common case, so a policy of n rules costs O(n log n + P), where P
// is the number of overlapping pairs the probes cannot avoid, not counting
// repeated rules nor rules inside one earlier rule. P is small for real
// policies (rules differ in addresses or ports) and reaches n² only when
// many distinct rules overlap many others, each only partly covered; the
// benchmarks in check/passes/bench measure 1k, 10k and 50k generated rules
// (BenchmarkPolgen, internal/polgen's policies: about 0.25 s of CPU at 10k
// and 1.2 s at 50k, growing linearly).
//
// BDDs (github.com/dalzilio/rudd) were not tried (not measured): they make
// union and complement canonical, but a 128-bit address range or a port
// range costs a node per bit per boundary, and the passes need which rules
// cover which and an example packet, which interval cubes give directly.
package space
