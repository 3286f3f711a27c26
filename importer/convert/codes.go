package convert

import "github.com/fwcproject/fwc/diag"

// Diagnostic codes of the converter. The readers' codes (FW3001-FW3199)
// come through unchanged.
const (
	CodeNoEquivalent = "FW3201"
	CodeSetType      = "FW3202"
	CodeBadName      = "FW3203"
	CodeUnknownSet   = "FW3204"
	CodeInternal     = "FW3205"
)

func init() {
	for _, d := range []diag.Doc{
		{Code: CodeNoEquivalent, Title: "iptables construct with no fwc equivalent", Severity: diag.Error, Doc: `
A match module, an option or a target of an imported rule has no counterpart
in the fwc language (-m u32, -m recent, -m addrtype, -j TCPMSS, ...), or has
one only for some of its values. The diagnostic points at the word of the
input. The rule is not imported: fwc import writes it as a comment, the
original line, where it stood, so that the output shows what is missing, and
exits with status 1. Nothing is dropped silently.

    -A INPUT -m u32 --u32 "0>>22&0x3C@12>>26&0x3F=0" -j DROP   # error
`},
		{Code: CodeSetType, Title: "ipset set with no fwc equivalent", Severity: diag.Error, Doc: `
An ipset set is of a type fwc has no set type for (hash:ip,port, hash:net,iface,
list:set, ...), or has an option that changes what it matches (netmask,
nomatch elements). fwc sets hold IPv4 or IPv6 addresses or networks, or ports.
The set is written as a comment in the output, and the rules that match it are
not imported either.
`},
		{Code: CodeBadName, Title: "Chain or set name fwc cannot use", Severity: diag.Error, Doc: `
An fwc name is letters, digits, '_' and '-', starts with a letter or '_' and
does not end with '-'; a chain may not be called after a hook (input,
forward, ...), since that makes it a base chain. iptables and ipset allow
more. The importer does not rename (a renamed chain would not be the one
other tools jump to): the chain's rules, and the rules that jump to it, are
not imported. Rename the chain in the input and import again.
`},
		{Code: CodeUnknownSet, Title: "Rule matches a set that is not imported", Severity: diag.Error, Doc: `
A rule matches an ipset set (-m set --match-set NAME) that no ipset file given
to fwc import declares. fwc needs the set's type. Give the ipset save output
too: fwc import rules.v4 sets.ipset.
`},
		{Code: CodeInternal, Title: "Imported policy does not parse", Severity: diag.Error, Doc: `
The fwc source the importer wrote does not parse. This is a bug of the
importer: please report it with the input.
`},
	} {
		diag.Register(d)
	}
}
