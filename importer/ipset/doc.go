// Package ipset reads the output of `ipset save` (and the ipset restore
// files people write by hand) into a typed, positioned model, the first step
// of `fwc import` for sets.
//
// The model is a File of Sets in creation order. A Set is one create line:
// its name, its type ("hash:ip", "hash:net,port", "list:set", ...) and its
// create options in order (family, hashsize, maxelem, timeout, counters,
// comment, skbinfo, size, range, netmask, bucketsize, initval, ...), then the
// Elements added to it, each with its per-element options (timeout, packets,
// bytes, comment, skbmark, skbprio, skbqueue, nomatch). The old "-N"/"-A"
// forms and flush/destroy lines are applied; other commands are reported.
//
// Kept verbatim: element text (its comma-separated parts are not split or
// checked: "10.0.0.0/8,tcp:22" is one string; the converter types it against
// the set's type), option names and values (after quote removal; Quoted says
// the value was quoted), and options the reader does not know (reported with
// a warning, never dropped).
//
// Positions are those of package diag: 1-based lines, 1-based columns
// counting bytes, Byte the 0-based offset in the input; every name, type,
// option, value and element carries its range. Lines are streamed with a cap
// on their length (64 KiB by default), so memory is the model plus one line.
//
// Read never fails and never panics: errors are diagnostics (codes FW3101 to
// FW3107, and FW3001 to FW3004 shared with package importer/iptables), and
// reading stops after 100 errors. Print writes the model back as ipset save
// text; restoring it makes the same sets (TestRoundTripKernel).
package ipset
