package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, part of the command-line contract.
const (
	exitOK       = 0
	exitFindings = 1 // errors in the input (warnings too with --strict)
	exitUsage    = 2 // bad usage or I/O problems
)

// exitError ends a command with a code. With a nil err the reason has
// already been printed (the diagnostics, say) and nothing more is said.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks a mistake in how fwc was called; run prints it with a
// pointer to --help and exits 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// findings is the error a command returns when the input has problems that
// were already reported.
var findings = &exitError{code: exitFindings}

// env is what a command may touch of the outside world, so tests can run
// the whole CLI in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// includeRoots are the --include-root directories of the command
	// being run.
	includeRoots []string
}

// run is the whole CLI; main only exits with its result.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	if ee, ok := errors.AsType[*exitError](err); ok {
		if ee.err != nil {
			fmt.Fprintf(stderr, "fwc: %v\n", ee.err)
		}
		return ee.code
	}
	// Anything else is a usage problem: a bad flag, a wrong number of
	// arguments, an unknown command, or a usageError of our own.
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(stderr, "fwc: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
	return exitUsage
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "fwc",
		Short: "Firewall policy compiler and linter for Linux",
		Long: `fwc reads a firewall policy written in one typed language (zones, services,
named sets, rate limits, NAT, marks for policy routing), checks it for
mistakes and translates it to nftables or iptables.

Exit status: 0 on success, 1 when the policy has errors (or warnings with
--strict), 2 for usage or I/O problems.`,
		Example: `  fwc check examples/
  fwc fmt -l .
  fwc explain FW0001`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a command there is nothing to do: say how to use fwc.
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(e.stderr)
			_ = cmd.Help()
			return &exitError{code: exitUsage}
		},
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newCheckCmd(e),
		newFmtCmd(e),
		newExplainCmd(e),
		newVersionCmd(e),
		newTranslateCmd(e),
		newApplyCmd(e),
		newPlanCmd(e),
		newConfirmCmd(e),
		newStatusCmd(e),
		newManCmd(e),
		newLSPCmd(e),
		newImportCmd(e),
		newTraceCmd(e),
		newDiffCmd(e),
	)
	// cobra's completion command, not being runnable itself, prints its
	// help and succeeds when the shell is missing or unknown; a script
	// that asks for a completion fwc cannot give must fail (exit 2). Once
	// it is runnable, cobra reports an unknown shell as an unknown command.
	root.InitDefaultCompletionCmd()
	// The same for help on a topic that does not exist: cobra prints the
	// usage and succeeds.
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			help := c.Run
			c.Run = nil
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if t, _, err := root.Find(args); t == nil || err != nil {
					return usagef("unknown help topic %q", strings.Join(args, " "))
				}
				help(cmd, args)
				return nil
			}
		}
		if c.Name() == "completion" {
			c.RunE = func(*cobra.Command, []string) error {
				return usagef("completion needs one shell: bash, zsh, fish or powershell")
			}
		}
	}
	return root
}
