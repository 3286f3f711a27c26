package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/apply"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/diag"
)

// applyBackends are the values of plan's and apply's --backend.
var applyBackends = []string{"nft", "iptables", "iptables-legacy", "iptables-nft"}

// addBackendFlag adds --backend to plan or apply.
func addBackendFlag(cmd *cobra.Command, backend *string) {
	cmd.Flags().StringVar(backend, "backend", "nft", "install with `BACKEND`: nft (fwc's table), or iptables, iptables-legacy, iptables-nft (fwc's chains, with iptables-restore and ipset)")
	_ = cmd.RegisterFlagCompletionFunc("backend", cobra.FixedCompletions(applyBackends, cobra.ShellCompDirectiveNoFileComp))
}

// parseBackend reads --backend: whether it is iptables, and which
// variant of its tools.
func parseBackend(b string) (apply.IptablesVariant, bool, error) {
	switch b {
	case "", "nft":
		return "", false, nil
	case "iptables":
		return "", true, nil
	case "iptables-legacy":
		return "legacy", true, nil
	case "iptables-nft":
		return "nft", true, nil
	}
	return "", false, usagef("unknown --backend %q (want %s)", b, strings.Join(applyBackends, ", "))
}

// planIptables reads fwc's part of iptables and plans the policy c with
// the iptables backend.
func planIptables(e *env, c *apply.Compiled, h *apply.Host, w *apply.Want, v apply.IptablesVariant) (*apply.Plan, error) {
	have, err := apply.ReadIptables(h, v)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	p, ds, err := apply.NewIptablesPlan(have, w)
	if rerr := diag.RenderText(e.stderr, ds, func(name string) []byte { return c.Loaded.Sources[name] }, diag.TextOptions{Color: wantColor(e.stderr)}); rerr != nil {
		return nil, &exitError{code: exitUsage, err: rerr}
	}
	switch {
	case ds.HasErrors():
		return nil, &exitError{code: exitFindings, err: errPolicyErrors}
	case err != nil:
		return nil, &exitError{code: exitUsage, err: err}
	}
	// Both backends at once filter every packet twice, the nft table
	// by the old policy: say so to whoever moves a host to iptables.
	if exists, err := h.Batch().TableExists(nft.Table); err == nil && exists {
		fmt.Fprintf(e.stderr, "fwc: warning: fwc's nftables table inet %s is loaded too, and filters beside the iptables rules; once the iptables backend is in place, remove it: nft delete table inet %s\n", nft.Table, nft.Table)
	}
	return p, nil
}

// coexist warns when docker's or kube-proxy's chains are in the namespace
// and the policy drops the traffic they forward (FW4001). Not finding out
// is a warning too, never a reason to stop. plan always looks; apply only
// when it has something to change, so that re-applying an unchanged
// policy stays one request to the kernel.
func coexist(e *env, h *apply.Host, w *apply.Want, c *apply.Compiled) {
	src := func(name string) []byte { return c.Loaded.Sources[name] }
	fs, err := apply.ReadForeign(h)
	if err != nil {
		fmt.Fprintf(e.stderr, "fwc: warning: cannot look for docker's and kube-proxy's chains: %v\n", err)
		return
	}
	_ = diag.RenderText(e.stderr, apply.Coexist(w.Ruleset, fs), src, diag.TextOptions{Color: wantColor(e.stderr)})
}
