// Package ir is fwc's backend-neutral intermediate form: the checked policy
// (package policy) lowered into netfilter terms, family by family.
//
// It sits between check and the backends: check builds a *policy.Program,
// Lower turns it into a *Ruleset, and backend/restore (iptables-save and
// ipset text), backend/nft (nft text) and the netlink apply path read the
// Ruleset. Nothing here knows a backend's syntax.
//
// A Ruleset holds the netfilter tables in fixed order (raw, mangle, nat,
// filter, security), each with its base and user chains, and the named
// sets, and the ip rules and routes the policy's routes ask for (Routing,
// the one description apply installs and backend/iproute2 writes). Rules
// are ordered lists of Matches followed by Actions, and both are policy's
// own values (policy.Cond, policy.Action): the IR adds no type for a kind
// of condition or action, so a new one needs no change here unless it
// depends on the address family. The IR's own types are few and say why
// they differ (match.go): Meter and Connlimit carry the dynamic set lowering
// made for one family, Jump points at a lowered chain, VerdictMap is made
// by Merge. A condition's set is the *policy.Set; the Ruleset declares a
// Set of the same name, and backends key per-set state by name.
//
// Each rule has a Family: IPv4, IPv6, or Both when nothing in it depends
// on the address family. Lower splits a family-neutral policy rule into
// one rule per family wherever a match or action depends on the family
// (addresses, icmp types, NAT targets, per-address meters, ttl and tos),
// copying a condition or action only where that family's part differs,
// and drops a rule from a family when its conditions leave nothing of that
// family. Everything else passes through as the checker made it.
// The iptables backend reads the IPv4 and IPv6 views (Rule.In); the nft
// backend emits Both rules once into its inet table.
//
// Merge is the optimisation pass the nft backend runs: adjacent rules that
// differ in one field become one rule with an anonymous set, or a verdict
// map when only the verdict differs; a new set or map takes three rules or
// more, since each costs the kernel a walk of the whole transaction. It
// compares conditions of any kind field by field, ignoring where the
// source wrote them, so a new kind merges with its equals unchanged.
// Rules that differ in several fields (addresses, ports, interfaces)
// become a lookup in a named set of tuples (a *policy.ConcatCond over a
// Set Merge declares), or a verdict map keyed by the tuples, passing over
// rules between them that provably share no packet with them (lookup.go).
// MergeWith does only the merges a backend can express: the iptables
// backend asks for the lookups an ipset type holds.
package ir
