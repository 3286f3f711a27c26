package iptables

import "github.com/fwcproject/fwc/diag"

// Diagnostic codes of the iptables-save reader. The codes every importer
// reader shares (FW3001-FW3004) are in importer/internal/lines.
const (
	CodeNotUnderstood   = "FW3010"
	CodeUnknownTable    = "FW3011"
	CodeNoCommit        = "FW3012"
	CodeTableTwice      = "FW3013"
	CodeMalformed       = "FW3014"
	CodeUndeclaredChain = "FW3015"
	CodeChainTwice      = "FW3016"
	CodeInsertRange     = "FW3017"
	CodeUnsupportedCmd  = "FW3018"
	CodeUnknownJump     = "FW3019"
	CodeStrayOption     = "FW3020"
	CodeBadPolicy       = "FW3021"
)

func init() {
	for _, d := range []diag.Doc{
		{Code: CodeNotUnderstood, Title: "Line not understood in iptables-save input", Severity: diag.Error, Doc: `
A line of an iptables-save (or ip6tables-save) file is none of what the format
has: a "*table" line, a ":CHAIN POLICY [packets:bytes]" declaration, a rule
("-A CHAIN ...", "-I CHAIN [N] ..."), COMMIT, a "#" comment or a blank line. A
rule or declaration outside a "*table" ... COMMIT block is also reported here:
iptables-restore rejects it.

    -A INPUT -j ACCEPT     # error: before any *filter line
    *filter
    -A INPUT -j ACCEPT
    COMMIT
`},
		{Code: CodeUnknownTable, Title: "Unknown iptables table", Severity: diag.Error, Doc: `
The "*name" line names a table other than filter, nat, mangle, raw and
security. Its block is still read, with every chain taken as a user chain.
`},
		{Code: CodeNoCommit, Title: "Table block without COMMIT", Severity: diag.Error, Doc: `
A "*table" block ends (at the next "*table" line or at the end of the file)
without a COMMIT line. iptables-restore loads a table only at its COMMIT, so
none of the block's rules would be loaded; a file cut short (a truncated copy)
usually shows this way. The rules are still read.

    *filter
    -A INPUT -j ACCEPT
    COMMIT                 # this line is missing
`},
		{Code: CodeTableTwice, Title: "Table declared twice", Severity: diag.Warning, Doc: `
The same table has two "*name" blocks. iptables-restore flushes a table when its
block starts, so the later block replaces the earlier one entirely: the rules
of the first block are not loaded. The importer keeps both blocks and converts
only the last.
`},
		{Code: CodeMalformed, Title: "Malformed iptables-save line", Severity: diag.Error, Doc: `
A line has the right form but a broken part: a chain declaration without a
policy, counters that are not "[packets:bytes]", an option missing its value,
a quote left open, a word that belongs to no option. The message names the
part; the rest of the line is kept where it can be.

    :INPUT [0:0]                 # error: the policy is missing
    :INPUT ACCEPT [0:0]          # fixed
    -A INPUT -m comment --comment "no end -j ACCEPT   # error: quote left open
`},
		{Code: CodeUndeclaredChain, Title: "Rule for an undeclared chain", Severity: diag.Error, Doc: `
A rule is added ("-A" or "-I") to a chain that is neither a built-in chain of
the table nor declared before it (":NAME - [0:0]" or "-N NAME").
iptables-restore rejects the file. The rule is kept, in a chain of that name.
`},
		{Code: CodeChainTwice, Title: "Chain declared twice", Severity: diag.Error, Doc: `
A chain is declared twice in one table block. iptables-restore rejects the
second declaration of a user chain. The first declaration is kept (a second
declaration of a built-in chain only sets its policy again).
`},
		{Code: CodeInsertRange, Title: "Insert position out of range", Severity: diag.Error, Doc: `
"-I CHAIN N" inserts the rule so that it becomes rule N of the chain; N must be
between 1 and one more than the number of rules the chain has at that line.
iptables-restore rejects a larger N ("Index of insertion too big"). The rule is
appended instead.

    -A INPUT -j ACCEPT
    -I INPUT 3 -j DROP    # error: INPUT has 1 rule, N can be 1 or 2
`},
		{Code: CodeUnsupportedCmd, Title: "Command not read by the importer", Severity: diag.Error, Doc: `
The line runs an iptables command other than -A, -I, -N and -P (-D, -R, -F, -X,
-E, -Z). iptables-restore accepts them, but they edit rules rather than state
them, and iptables-save never prints them; the importer does not apply them.
Load the file and import the output of iptables-save instead.
`},
		{Code: CodeUnknownJump, Title: "Jump to an undeclared chain", Severity: diag.Warning, Doc: `
A rule jumps (-j) or goes (-g) to a name that is not a chain declared in the
table and not a target iptables knows. iptables-restore rejects the file unless
the chain is declared elsewhere: ufw's before.rules, for instance, jumps to
chains declared in user.rules, loaded together with it.
`},
		{Code: CodeStrayOption, Title: "Option outside any match", Severity: diag.Warning, Doc: `
An option comes before any "-m module" and there is no "-p PROTOCOL" whose
match could own it, so nothing in the rule says which module it belongs to.
It is kept with the rule for the converter to report.

    -A INPUT --dport 22 -j ACCEPT          # which protocol?
    -A INPUT -p tcp --dport 22 -j ACCEPT   # fine: tcp's implicit match
`},
		{Code: CodeBadPolicy, Title: "Bad chain policy", Severity: diag.Error, Doc: `
A built-in chain's policy must be ACCEPT or DROP, and a user chain's policy is
written "-" (user chains have none). iptables-restore rejects anything else.

    :INPUT REJECT [0:0]     # error: REJECT is a target, not a policy
    :mychain ACCEPT [0:0]   # error: a user chain has no policy
`},
	} {
		diag.Register(d)
	}
}
