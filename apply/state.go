package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/check/policy"
	"github.com/fwcproject/fwc/ir"
)

// State is the live state fwc manages in one namespace.
type State struct {
	// Generation is the nftables ruleset generation read before anything
	// else: an apply based on this state is refused if it has moved since.
	Generation uint32
	Routing    Routing

	h     *Host
	fp    *string // the fingerprint, read on demand
	table *Table  // nft's listing, read on demand
}

// Read reads the live state: the ruleset generation and fwc's ip rules and
// routes. It changes nothing. fwc's table is read when first needed, as a
// fingerprint (Fingerprint) or as nft lists it (Listing).
func Read(h *Host) (*State, error) {
	gen, err := h.nft.Generation()
	if err != nil {
		return nil, fmt.Errorf("read the nftables generation: %w", err)
	}
	rt, err := readRouting(h.route)
	if err != nil {
		return nil, err
	}
	return &State{Generation: gen, Routing: rt, h: h}, nil
}

// Fingerprint digests fwc's table as the kernel holds it ("" when there is
// none; see Host.fingerprint). It is read once, on first use.
func (s *State) Fingerprint() (string, error) {
	if s.fp == nil {
		fp, err := s.h.fingerprint(0)
		if err != nil {
			return "", err
		}
		s.fp = &fp
	}
	return *s.fp, nil
}

// Listing returns fwc's table as nft lists it (read once, on first use).
func (s *State) Listing() (*Table, error) {
	if s.table == nil {
		text, err := s.h.listTable()
		if err != nil {
			return nil, err
		}
		s.table = parseTable(text)
	}
	return s.table, nil
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
	// Script is the nft script of Ruleset (backend/nft.Text); Sum its
	// SHA-256 in hex.
	Script  []byte
	Sum     string
	Routes  []*policy.Route
	Routing Routing

	table *Table // Script as nft lists it once loaded, made on demand
}

// NewWant describes what rs (whose nft script is script) and routes ask
// for. It does not touch the kernel.
func NewWant(rs *ir.Ruleset, script []byte, routes []*policy.Route) *Want {
	sum := sha256.Sum256(script)
	return &Want{Ruleset: rs, Script: script, Sum: hex.EncodeToString(sum[:]), Routes: routes, Routing: WantRouting(routes)}
}

// Listing returns the table as nft lists it once Script is loaded: Script
// is loaded into a throwaway network namespace and listed there (nothing
// on the host changes). With a cache directory, the listing is kept there
// for the next time.
func (w *Want) Listing(cache string) (*Table, error) {
	if w.table != nil {
		return w.table, nil
	}
	type entry struct{ Sum, Text string }
	path := ""
	if cache != "" {
		path = filepath.Join(cache, "want-listing.json")
		var e entry
		if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &e) == nil && e.Sum == w.Sum {
			w.table = parseTable(e.Text)
			return w.table, nil
		}
	}
	text, err := canonical(w.Script)
	if err != nil {
		return nil, err
	}
	w.table = parseTable(text)
	if path != "" {
		writeCache(path, entry{w.Sum, text})
	}
	return w.table, nil
}

// writeCache writes a cache file, quietly giving up when it cannot: a
// cache only saves time.
func writeCache(path string, v any) {
	data, err := json.Marshal(v)
	if err != nil || os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, data, 0o600) == nil {
		_ = os.Rename(tmp, path)
	}
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

// applied is the record of the last apply in a namespace: the script's sum,
// and the generation and fingerprint of the table it made. While the
// ruleset is still at that generation (same boot, same namespace), or fwc's
// table still has that fingerprint, the same script has nothing to change.
type applied struct {
	NetNS       string `json:"netns"`
	Sum         string `json:"sum"`
	BootID      string `json:"boot_id"`
	NetNSCookie uint64 `json:"netns_cookie"`
	Generation  uint32 `json:"generation"`
	Fingerprint string `json:"fingerprint"`
}

func (h *Host) appliedPath() string {
	return filepath.Join(h.Cache, "applied-"+nsKey(h.NetNS)+".json")
}

// unchanged reports whether have is still what the script with sum made
// when it was last applied here: the ruleset generation has not moved since
// (one GETGEN, already read), or, if it has, fwc's table still has the
// fingerprint it had then.
func (h *Host) unchanged(have *State, sum string) (bool, error) {
	if h.Cache == "" {
		return false, nil
	}
	var a applied
	data, err := os.ReadFile(h.appliedPath())
	if err != nil || json.Unmarshal(data, &a) != nil || a.Sum != sum || a.NetNS != h.NetNS {
		return false, nil
	}
	if a.Generation == have.Generation && a.BootID == bootID() && a.NetNSCookie != 0 && a.NetNSCookie == h.netnsCookie() {
		return true, nil
	}
	if a.Fingerprint == "" {
		return false, nil // too large a table to fingerprint: compare listings
	}
	fp, err := have.Fingerprint()
	return fp != "" && fp == a.Fingerprint, err
}

// bootID identifies this boot of the kernel.
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

// recordApplied notes that the script with sum made the table committed
// as generation gen, if the ruleset is still at gen.
func (h *Host) recordApplied(sum string, gen uint32) {
	if h.Cache == "" {
		return
	}
	fp, err := h.fingerprint(maxFingerprintSets)
	if err != nil && !errors.Is(err, errTooManySets) {
		return
	}
	if now, err := h.nft.Generation(); err != nil || now != gen {
		return // someone else committed too: the table may not be ours alone
	}
	writeCache(h.appliedPath(), applied{NetNS: h.NetNS, Sum: sum, BootID: bootID(), NetNSCookie: h.netnsCookie(), Generation: gen, Fingerprint: fp})
}
