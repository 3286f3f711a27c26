package main

import "github.com/spf13/cobra"

// newTranslateCmd is the seam for `fwc translate`: replace the body with the
// real command when the backends land.
func newTranslateCmd(*env) *cobra.Command {
	return reserved("translate --to nft|iptables|ip6tables|ipset|all PATH...",
		"Translate a policy to an nft script or iptables-save text",
		`Translate checks a policy and prints what it compiles to: an nftables
script for "nft -f", iptables-save text for iptables-restore and
ip6tables-restore, or "ipset restore" text for the sets they use.`)
}
