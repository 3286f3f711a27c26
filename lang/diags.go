package lang

import "github.com/fwcproject/fwc/diag"

func init() {
	for _, d := range []diag.Doc{
		{Code: "FW0001", Title: "Syntax error", Severity: diag.Error, Doc: `
The text does not follow the grammar of the language. The message names the
token found and what could have come instead. One syntax error costs the
top-level declaration it is in; the rest of the file is still read.

    zone lan { iface eth1 net 192.168.1.0/24 }   # two items need a ';' or a newline between them
    zone lan { iface eth1; net 192.168.1.0/24 }  # fixed
`},
		{Code: "FW0002", Title: "Invalid token", Severity: diag.Error, Doc: `
A character that cannot start any token, or a string that is not closed on its
line or uses an escape other than \" and \\.

    log prefix "drop: 	# the string is not closed
    log prefix "drop: "   # fixed
`},
		{Code: "FW0003", Title: "Item given twice", Severity: diag.Error, Doc: `
An item that may appear once in a set, route or balance block was written
twice. The first one is used.

    set allow : ipv4_addr { timeout 1h; timeout 2h }   # which one?
`},
		{Code: "FW0004", Title: "Concatenated lookup mixes protocols", Severity: diag.Error, Doc: `
The port keys of one concatenated set lookup must belong to one protocol.

    tcp sport . udp dport @pairs   # error
    tcp sport . tcp dport @pairs   # fine
`},
		{Code: "FW0009", Title: "Internal error in the fast parser", Severity: diag.Warning, Doc: `
The fast path of the parser (an optimisation that declines what it is not
sure of) failed on a declaration because of a bug in fwc. The declaration
was parsed by the reference parser instead, so the result is correct; the
warning is there so that the bug gets reported. Please report it with the
declaration it points at.
`},
		{Code: "FW0010", Title: "Cannot read file", Severity: diag.Error, Doc: `
A path given on the command line does not exist or cannot be read.
A directory is read as every *.fw file below it. A policy file must be a
regular file (a FIFO, a device or a socket is refused without waiting on
it) of at most 16 MiB; standard input, where a command reads it, is held to
the same limit.
`},
		{Code: "FW0011", Title: "Include cycle", Severity: diag.Error, Doc: `
Files include each other in a loop. The error is at the include that closes
the cycle; the other includes of the loop are listed with it.

    # a.fw
    include "b.fw"
    # b.fw
    include "a.fw"   # error: include cycle a.fw -> b.fw -> a.fw
`},
		{Code: "FW0012", Title: "Included file not found", Severity: diag.Error, Doc: `
An include names a file that does not exist or cannot be read. The path is
relative to the directory of the file that includes it. Like a file given
on the command line, it must be a regular file of at most 16 MiB.

    include "common.fw"   # looks for common.fw next to this file
`},
		{Code: "FW0014", Title: "Include leaves the policy tree", Severity: diag.Error, Doc: `
An include may only read files below the policy's tree: the directory given
on the command line, or the directory of the file given. A path that leaves
it, by "..", by being absolute, or through a symlink that points outside, is
refused, so that a policy cannot make fwc read (and print) files such as
/etc/shadow. Pass --include-root DIR (to check, translate, plan and apply)
to allow includes below DIR as well; repeat it for more directories. A
symlink found while walking a directory given on the command line must stay
below that directory too.

    # fwc check /etc/fwc/host.fw
    include "common.fw"              # fine: /etc/fwc/common.fw
    include "../shared/zones.fw"     # error unless --include-root /etc/shared
    include "/etc/shadow"            # error
`},
		{Code: "FW0015", Title: "File is not a policy file", Severity: diag.Error, Doc: `
A file whose name does not end in .fw (the name of the file itself, after
symlinks) does not parse as a policy. It is
probably not one (a key, a password file, an environment dump reached by a
mistaken include or path), so its text is never shown: the error gives the
position of the first syntax error only. Rename a policy file to NAME.fw to
see its syntax errors in full.
`},
		{Code: "FW0013", Title: "No policy files in directory", Severity: diag.Warning, Doc: `
A directory given to fwc holds no *.fw file at any depth, so nothing was read
from it.
`},
	} {
		diag.Register(d)
	}
}
