// Package correlated reports pairs of rules with different verdicts whose
// order decides some packets: each matches packets the other does not, and
// some packets match both, so swapping the rules would change their verdict.
//
// # Analyzer correlated
//
// correlated: order-sensitive overlaps
//
// Reports rules with different verdicts that partly overlap, crosswise, so
// that their order decides some packets.
//
// It uses the exact packet model of the shadow pass (see package shadow).
// Containment is judged field by field as Al-Shaer and Hamed define
// correlation: a field one rule leaves open is wider than the other's
// restriction on it, so "saddr 198.51.100.0/24 tcp dport 22 accept" and a
// later "saddr 198.51.100.66 proto tcp drop" cross (the first is wider in
// addresses, the second in ports), and so does an exception that restricts
// fewer fields than the rule after it ("saddr 10.2.0.0/16 drop" then
// "saddr 10.0.0.0/8 tcp dport 80 accept"). To stay quiet on guards, a field
// outside the address/port 5-tuple (interfaces, ct state, marks, flags)
// counts only when both rules restrict it, and the two rules must share a
// restricted field other than the protocol: "ct state invalid drop" or a
// blocklist "saddr 192.0.2.1 drop" before "tcp dport 22 accept" is not
// reported. An exception inside a general rule (a full containment) and
// rules with the same verdict are never reported. Only rules that can
// decide packets count: rules that "may not match" (rate limits, sets with
// a timeout, ...) and rules with no terminal verdict are left out, and the
// overlap must hold a packet that actually reaches the earlier rule.
//
// # FW1001: rules overlap in an order-sensitive way
//
// This rule and an earlier rule with another verdict each match packets the
// other does not (say one has the wider address range, the other the wider
// port range, or leaves the ports open), and some packets match both. Packets
// in the overlap get the earlier rule's verdict; swapping the rules would
// change it. The detail shows one such packet that reaches the earlier rule,
// by the fields the two rules restrict (no others); the note points at the
// earlier rule. Guards are not reported: a rule restricting only fields the other
// leaves open, other than addresses and ports ("ct state invalid drop" before
// "tcp dport 443 accept"), or sharing no restricted field with it but the
// protocol (a blocklist before a service). Nor are an exception wholly inside
// a general rule, rules with the same verdict, and rules that may not match
// (rate limits, sets with a timeout, ...) or have no terminal verdict. It is
// a warning: the order may be intended, but it deserves a second look. If the
// order is intended, say so with
// "# fwc:ignore FW1001 reason"; otherwise split one of the rules so that
// neither depends on the order.
package correlated

import _ "embed" // for doc

//go:embed doc.go
var doc string
