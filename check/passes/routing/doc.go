// Package routing checks the consistency of policy routing: routes (a
// firewall mark bound to a routing table, installed as `ip rule fwmark
// MARK/MASK table T`) against the rules that set and match marks.
//
// # Analyzer routing
//
// routing: policy routing consistency
//
// Reports routes whose mark is never set, marks no route binds, and routes
// whose marks collide.
//
// It models packet marks as 32-bit values under masks: a route binds the
// marks m with m & Mask == Mark & Mask (the kernel's fwmark rule test), a
// `mark set V/M` rule writes V under M, `route NAME` writes the route's
// mark, and a connection mark can reach the packet mark through
// `connmark restore`. It looks at every rule of the policy whatever hook it
// is in (the placement pass judges hooks), and does not follow values
// through arithmetic other than masks.
//
// A route without routes, a route mark with bits outside its mask and a
// route binding mark 0 are errors of the front end (FW0122, FW0110).
//
// # FW1801: route's mark is never set
//
// A route binds a firewall mark to a routing table, but no rule sets that mark
// (with "route NAME", a "mark set" whose value the route binds, or a connection
// mark restored into the packet), so no packet is ever routed by this table.
// Add a rule with "route NAME" where the traffic should be steered (in
// prerouting or output), or remove the route.
//
// # FW1802: mark set but neither routed nor matched
//
// This rule sets a packet mark that no route binds and no rule of the policy
// matches. Marks are also read by things outside the policy (tc, other ip
// rules), so this is only informational, and reported only when the policy
// has routes; if the mark was meant for one of the
// policy's routes, its value or mask differs from the route's.
//
// # FW1804: two routes bind one mark
//
// Two routes bind the same mark and mask. Only the ip rule with the lower
// priority ever matches; the other route's table is never used.
//
// # FW1805: route marks overlap
//
// Some mark values are bound by both routes: where both masks have a bit, the
// two marks agree. A packet with such a mark goes to whichever ip rule has the
// lower priority. Use disjoint bits or masks. Routes whose masks share no bit
// (bit fields of one mark) are reported only when a rule sets a mark both
// bind.
package routing

import _ "embed" // for doc

//go:embed doc.go
var doc string
