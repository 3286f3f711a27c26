package apply

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check/policy"
	"github.com/fwcproject/fwc/ir"
)

// State is the live state fwc manages in one namespace.
type State struct {
	// Generation is the nftables ruleset generation read before the table:
	// an apply based on this state is refused if it has moved since.
	Generation uint32
	Table      *Table
	Routing    Routing
}

// Read reads the live state: the generation, fwc's table and fwc's ip
// rules and routes. It changes nothing.
func Read(h *Host) (*State, error) {
	gen, err := h.nft.Generation()
	if err != nil {
		return nil, fmt.Errorf("read the nftables generation: %w", err)
	}
	text, err := h.listTable()
	if err != nil {
		return nil, err
	}
	rt, err := readRouting(h.route)
	if err != nil {
		return nil, err
	}
	return &State{Generation: gen, Table: parseTable(text), Routing: rt}, nil
}

// listTable returns `nft -s list table inet fwc`, or "" when there is no
// such table.
func (h *Host) listTable() (string, error) {
	out, err := h.nftCmd(nil, "-s", "list", "table", "inet", nft.Table)
	if err != nil {
		if strings.Contains(err.Error(), "No such file or directory") {
			return "", nil
		}
		return "", fmt.Errorf("list table inet %s: %w", nft.Table, err)
	}
	return string(out), nil
}

// Want is what a policy asks of the kernel.
type Want struct {
	Ruleset *ir.Ruleset
	// Script is the nft script of Ruleset (backend/nft.Text).
	Script []byte
	// Table is Script as nft lists it once loaded.
	Table   *Table
	Routes  []*policy.Route
	Routing Routing
}

// NewWant describes what rs and routes ask for. It loads script, the nft
// text of rs, into a throwaway network namespace to learn how nft lists
// it; nothing on the host changes.
func NewWant(rs *ir.Ruleset, script []byte, routes []*policy.Route) (*Want, error) {
	text, err := canonical(script)
	if err != nil {
		return nil, err
	}
	return &Want{Ruleset: rs, Script: script, Table: parseTable(text), Routes: routes, Routing: WantRouting(routes)}, nil
}

// canonical loads an nft script into a fresh, empty network namespace that
// lives as long as one shell, and returns nft's listing of fwc's table.
func canonical(script []byte) (string, error) {
	cmd := exec.Command("/bin/sh", "-c", "nft -f - && nft -s list table inet "+nft.Table)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := runCmd(cmd, script)
	if err != nil {
		return "", fmt.Errorf("load the policy into a scratch namespace: %w", err)
	}
	if len(out) == 0 {
		return "", errors.New("nft listed nothing for the policy's table")
	}
	return string(out), nil
}
