package nft

import (
	"github.com/mdlayher/netlink"

	"github.com/fwcproject/fwc/ir"
)

// MessagesViaConn is Messages with every rule queued on the google/nftables
// Conn, the encoding appendRule must reproduce.
func MessagesViaConn(rs *ir.Ruleset) ([]netlink.Message, error) {
	msgs, ds, err := Prepare(rs).messages(true)
	if err == nil && ds.HasErrors() {
		err = &RefusedError{Diagnostics: ds}
	}
	return msgs, err
}
