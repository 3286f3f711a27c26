// Package convert turns what the importer's readers read (package
// importer/iptables: iptables-save and ip6tables-save text; package
// importer/ipset: ipset save text) into fwc source, the work of `fwc
// import` (issue #14). It sits after the readers and lang, whose parser and
// formatter give the output its `fwc fmt` layout.
//
// Tables become fwc tables, chains fwc chains in the input's order (built-in
// chains by hook, user chains by name), rules fwc rules in the same order;
// `-m comment` becomes a comment line above the rule, and the rule's origin
// ("# rules.v4:42") ends its line unless Options.NoOrigin. Sets of addresses,
// networks and ports become typed named sets. With one ruleset of each
// family, a chain present in both with as many rules in each is folded pair
// by pair: a pair that converts to the same text is one rule for both
// families; every other rule carries `family ipv4` or `family ipv6`, which
// keeps each family's order exactly since a rule of one family never sees
// the other's packets.
//
// What fwc cannot express is an error positioned at the word of the input
// that names it (codes FW3201 to FW3205, documented for `fwc explain`); the
// rule is written as a comment holding its original line, so that nothing
// is dropped silently. Convert never fails otherwise: the output always
// parses (FuzzConvert), and it checks without errors whenever no error was
// reported. docs/import.md lists what is imported and what is not, and how
// TestTranslationMatchesKernel proves the translation of the import equal to
// the input as the kernel loads it.
package convert
