// Command fwc checks, formats and translates firewall policies written in
// the fwc language. This package is the command line only: flags, I/O and
// exit codes; the work is done by the library packages (lang, check, ir and
// the backends).
//
// Exit codes: 0 success, 1 the input has errors (or warnings under
// --strict, or fmt found syntax errors), 2 usage or I/O problems.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
