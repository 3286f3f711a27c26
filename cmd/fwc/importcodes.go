package main

// The importer's readers (issue #14) are not behind a command yet; linking
// them here registers their diagnostic codes (FW3001-FW3199) so that
// `fwc explain` documents them already.
import (
	_ "github.com/fwcproject/fwc/importer/ipset"
	_ "github.com/fwcproject/fwc/importer/iptables"
)
