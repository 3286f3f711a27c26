package nft

import (
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/internal/lines"
)

// Diagnostic codes of the nft readers (FW3301-FW3399). The codes every
// importer reader shares (FW3001-FW3004) are in importer/internal/lines.
const (
	CodeSyntax      = "FW3301"
	CodeInclude     = "FW3302"
	CodeUndefined   = "FW3303"
	CodeUnsupported = "FW3304"
	CodeJSON        = "FW3305"
	CodeUnknownRef  = "FW3306"
)

// Shared codes, re-exported for the readers' callers.
const (
	CodeLineTooLong = lines.CodeLineTooLong
	CodeBinary      = lines.CodeBinary
	CodeTooMany     = lines.CodeTooMany
)

func init() {
	for _, d := range []diag.Doc{
		{Code: CodeSyntax, Title: "nft input not understood", Severity: diag.Error, Doc: `
A part of an nft ruleset (nft list ruleset output, or a file for nft -f) is
not what the nft language allows where it stands: a missing "}", a rule
statement the reader cannot parse, a stray token. The diagnostic points at the
first token it could not read. A rule that cannot be read is kept, as a
comment holding its text, in what fwc import writes; the rest of the file is
still read.

    table inet filter {
    	chain input {
    		tcp dport { 22, 80 accept     # error: the set is not closed
    	}
    }
`},
		{Code: CodeInclude, Title: "nft include cannot be read", Severity: diag.Error, Doc: `
An include "PATH" of an nft file names a file that cannot be read, includes
itself (directly or through others), or nests deeper than 16 levels. A
relative path is taken relative to the directory of the including file; a
glob ("/etc/nftables.d/*.nft") includes every file it matches, in name order.
fwc import --live and the JSON reader have no includes.
`},
		{Code: CodeUndefined, Title: "nft variable not defined", Severity: diag.Error, Doc: `
A $NAME in an nft file names no "define NAME = ..." before it (or one that an
"undefine" removed). nft refuses such a file. The rule that uses it is not
imported.
`},
		{Code: CodeUnsupported, Title: "nft command not imported", Severity: diag.Error, Doc: `
The nft file holds a command that changes a ruleset by handle or deletes
parts of it ("delete rule ... handle 5", "replace rule", "reset counters",
...), or declares an object the importer does not read (a flowtable, a ct
helper, a quota). fwc import reads rulesets, not edit scripts: give it the
output of nft list ruleset instead.
`},
		{Code: CodeJSON, Title: "nft JSON input not understood", Severity: diag.Error, Doc: `
The input is not JSON as "nft -j list ruleset" writes it (libnftables-json(5)):
not valid JSON, no top-level "nftables" array, or an object of the array,
statement or expression of a shape the schema does not have. The diagnostic
gives the line and column of the JSON value.
`},
		{Code: CodeUnknownRef, Title: "nft rule refers to a chain or table not declared", Severity: diag.Error, Doc: `
A rule is added to a table or chain that the input does not declare ("add rule
inet filter input ..." with no table inet filter), or a jump names a chain the
table does not have. nft refuses such input. The rule is kept as a comment.
`},
	} {
		diag.Register(d)
	}
}
