package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/lsp"
)

func newLSPCmd(e *env) *cobra.Command {
	var (
		backends []string
		severity []string
		stdio    bool
	)
	cmd := &cobra.Command{
		Use:   "lsp [--backend NAME]... [--severity CODE=LEVEL]...",
		Short: "Run the language server for editors (LSP over standard input and output)",
		Long: `Lsp runs a Language Server Protocol server on standard input and output,
for editors: diagnostics as you type (the findings of fwc check, with the
same codes and the same --backend and --severity options), formatting (fwc
fmt), hover (fwc explain of a finding or a code, and a name's declaration)
and go to definition of zones, services, sets, defines, chains, routes and
balances. Each open document is checked with what it includes; documents
open in the editor are read from the editor, saved or not.

Editors start it themselves; editors/README.md says how for Neovim and
VS Code.

Exit status: 0 after the client's shutdown and exit, 1 when the client
exits or goes away without shutdown, 2 for usage problems.`,
		Example: `  fwc lsp
  fwc lsp --backend nft --severity FW1201=error`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := lintOptions(backends, severity)
			if err != nil {
				return err
			}
			err = lsp.Serve(context.Background(), stdioRWC{e.stdin, e.stdout}, lsp.Options{
				Check:        opts,
				IncludeRoots: e.includeRoots,
				Version:      fwcVersion(),
			})
			if errors.Is(err, lsp.ErrNoShutdown) {
				return findings
			}
			return err
		},
	}
	cmd.Flags().StringSliceVar(&backends, "backend", nil, "check for these `backends`: nft, iptables, ip6tables")
	cmd.Flags().StringSliceVar(&severity, "severity", nil, "set the severity of lint codes: `CODE=LEVEL`,... as fwc check does")
	// vscode-languageclient adds --stdio to the command it starts; stdio
	// is the only transport, so the flag is accepted and changes nothing.
	cmd.Flags().BoolVar(&stdio, "stdio", true, "talk over standard input and output (the only transport)")
	addIncludeRootFlag(cmd, e)
	return cmd
}

// stdioRWC is the server's stream: closing it closes nothing, since the
// process ends right after.
type stdioRWC struct {
	io.Reader
	io.Writer
}

func (stdioRWC) Close() error { return nil }
