// Package policy is the checked form of an fwc policy: every name resolved,
// every value typed, zones, services and zone-level rules expanded into
// ordered rules of the base chains of netfilter's tables. It is what the
// checker's lint passes analyse and what package ir lowers per family.
//
// It is a stage of its own, between check (which builds it from the ast)
// and ir, the backends and apply (which read it), as ast is between lang and
// check. Rules here are family-neutral: a condition may hold IPv4
// and IPv6 items at once, and ir splits them.
package policy
