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
	"slices"
	"strings"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/vishvananda/netns"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/safefile"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
)

// State is the live state fwc manages in one namespace.
type State struct {
	// Generation is the nftables ruleset generation read before anything
	// else: an apply based on this state is refused if it has moved since.
	Generation uint32
	Routing    Routing

	h     *Host
	fp    *string // the fingerprint, read on demand
	table *Table  // nft's listing, read on demand, or last's script parsed
	// last is the record of fwc's last apply here when the live table is
	// known to be what it made (see Host.lastApplied); nil otherwise.
	last *lastApply
	// listed is set once nft has been asked to list the table.
	listed bool
	// ipt is fwc's part of iptables (ReadIptables); nil for nft.
	ipt *IptablesState
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
// none; see fingerprint). It is read once, on first use.
func (s *State) Fingerprint() (string, error) {
	if s.fp == nil {
		fp, err := fingerprint(s.h.nft, 0)
		if err != nil {
			return "", err
		}
		s.fp = &fp
	}
	return *s.fp, nil
}

// Listing returns fwc's table as nft lists it (read once, on first use),
// or, when the live table is known to be what fwc's last apply here made,
// that apply's nft script split the same way, which costs no read: the
// kernel's dump of a table is quadratic in its rules (50,000 take nft
// about 5 s to list). Either text, given to nft -f, makes the table again
// (the script without the elements packets added to dynamic sets).
func (s *State) Listing() (*Table, error) {
	if s.table == nil {
		if s.last != nil {
			s.table = parseTable(s.last.script)
			return s.table, nil
		}
		text, err := s.h.listTable()
		if err != nil {
			return nil, err
		}
		s.listed = true
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
	// Sysctls are the kernel settings the policy declares (see
	// Compiled.Want); NewWant leaves them empty.
	Sysctls []*policy.Sysctl

	table *Table // Script as nft lists it once loaded, made on demand
	// cached is set when table was read from the cache directory rather
	// than made by loading Script.
	cached bool
	enc    *encoding
	// encodeAsked is set by Encode: the batch is wanted, and NewPlan
	// starts encoding it once it knows the table will be replaced.
	encodeAsked bool
	nft         *nft.Prepared // Ruleset made ready for nft; nil until needed
}

// encoding is the netlink batch of a Want's ruleset, encoded in the
// background; done is closed when msgs and err are set.
type encoding struct {
	done chan struct{}
	msgs []netlink.Message
	err  error
}

// Encode asks for the ruleset's netlink batch to be encoded in the
// background, for the Apply that follows, so that the encoding (a quarter
// of a second at 50,000 rules) overlaps reading and planning instead of
// following them. Without it, Apply encodes the batch itself. NewPlan
// starts the encoding once it knows the whole table is to be replaced:
// an incremental apply encodes only the rules it adds.
func (w *Want) Encode() { w.encodeAsked = true }

// startEncoding starts encoding the batch in the background, if Encode
// asked for it.
func (w *Want) startEncoding() {
	if w.encodeAsked {
		w.encode()
	}
}

// encode starts encoding the batch in the background.
func (w *Want) encode() {
	if w.enc != nil {
		return
	}
	e := &encoding{done: make(chan struct{})}
	w.enc = e
	go func() {
		defer close(e.done)
		if w.nft == nil {
			w.nft = nft.Prepare(w.Ruleset)
		}
		e.msgs, e.err = w.nft.Messages()
	}()
}

// messages returns the batch Encode started (starting it if need be) and
// forgets it: a batch is sent once.
func (w *Want) messages() ([]netlink.Message, error) {
	w.encode()
	<-w.enc.done
	e := w.enc
	w.enc = nil
	return e.msgs, e.err
}

// NewWant describes what rs (whose nft script is script) and routes ask
// for. It does not touch the kernel.
func NewWant(rs *ir.Ruleset, script []byte, routes []*policy.Route) *Want {
	sum := sha256.Sum256(script)
	return &Want{Ruleset: rs, Script: script, Sum: hex.EncodeToString(sum[:]), Routes: routes, Routing: WantRouting(routes)}
}

// rules counts the ruleset's rules.
func (w *Want) rules() int {
	n := 0
	for _, t := range w.Ruleset.Tables {
		for _, c := range t.Chains {
			n += len(c.Rules)
		}
	}
	return n
}

// Listing returns the table as nft lists it once Script is loaded: Script
// is loaded into a throwaway network namespace and listed there (nothing
// on the host changes). With a cache directory, the listing is kept there
// for the next time.
func (w *Want) Listing(cache string) (*Table, error) {
	if w.table != nil {
		return w.table, nil
	}
	path := w.listingPath(cache)
	if path != "" {
		var e listingEntry
		if data, err := os.ReadFile(path); err == nil && json.Unmarshal(data, &e) == nil && e.Sum == w.Sum {
			w.table, w.cached = parseTable(e.Text), true
			return w.table, nil
		}
	}
	text, err := canonical(w.Script)
	if err != nil {
		return nil, err
	}
	w.table = parseTable(text)
	if path != "" {
		writeCache(path, listingEntry{w.Sum, text})
	}
	return w.table, nil
}

// listingPath is the cache file of Listing in the cache directory cache
// ("" for none).
func (w *Want) listingPath(cache string) string {
	if cache == "" {
		return ""
	}
	return filepath.Join(cache, "want-listing.json")
}

// listingEntry is the cache file of Want.Listing: a script's sum and nft's
// listing of the table it makes.
type listingEntry struct{ Sum, Text string }

// writeCache writes a cache file, quietly giving up when it cannot: a
// cache only saves time.
func writeCache(path string, v any) {
	if data, err := json.Marshal(v); err == nil {
		writeFile(path, data)
	}
}

// writeFile replaces path with data (written beside it under a fresh
// name, then renamed, never through a link planted there) and reports
// whether it did. The directory must be private (safefile.OpenPrivate):
// root reads these records back and acts on them.
func writeFile(path string, data []byte) bool {
	d, err := safefile.OpenPrivate(filepath.Dir(path))
	if err != nil {
		return false
	}
	defer d.Close()
	return d.WriteFileNoSync(filepath.Base(path), data, 0o600) == nil
}

// canonical loads an nft script into a fresh, empty network namespace
// (made for the purpose, gone when its thread ends) and returns nft's
// listing of fwc's table.
func canonical(script []byte) (string, error) {
	path, err := nftPath()
	if err != nil {
		return "", err
	}
	var out []byte
	err = inNetNS(-1, true, func() error {
		if _, err := runCmd(exec.Command(path, "-f", "-"), script); err != nil {
			return err
		}
		var err error
		out, err = runCmd(exec.Command(path, "-s", "list", "table", "inet", nft.Table), nil)
		return err
	})
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
// table still has that fingerprint, the table is what the script made. The
// script itself is kept beside the record (scriptPath), so that a plan for
// a changed policy can compare scripts instead of listing the table.
type applied struct {
	NetNS       string `json:"netns"`
	Sum         string `json:"sum"`
	BootID      string `json:"boot_id"`
	NetNSCookie uint64 `json:"netns_cookie"`
	Generation  uint32 `json:"generation"`
	Fingerprint string `json:"fingerprint"`
	// Dynamic names the policy's dynamic sets (see runtime.go), and
	// Static is the fingerprint without their elements: what fwc status
	// compares, since elements added at run time are no change of the
	// policy.
	Dynamic []string  `json:"dynamic,omitempty"`
	Static  string    `json:"static_fingerprint,omitempty"`
	Time    time.Time `json:"time"`
}

// lastApply is a record whose script was read back and matched its sum.
type lastApply struct {
	applied
	script string
	// current is set when the record is believed because the generation
	// has not moved since: the table is then exactly what the record
	// says, handles included.
	current bool
}

func (h *Host) appliedPath() string {
	return filepath.Join(h.Cache, "applied-"+nsKey(h.NetNS)+".json")
}

func (h *Host) scriptPath() string {
	return filepath.Join(h.Cache, "applied-"+nsKey(h.NetNS)+".nft")
}

// lastApplied returns the record of fwc's last apply here if have is still
// what that apply made. While the ruleset generation has not moved since
// (one GETGEN, already read; same boot, same namespace), the record is
// believed. Once it has moved, the record is not evidence enough: a file of
// the cache directory, damaged or forged, could pair the live table's
// fingerprint with another script and hide every difference. Then the
// record stands only for want's own script (its sum is want's), and only if
// want's batch, committed into a scratch namespace as Apply commits it,
// fingerprints as the live table does: the kernel vouches, not the file.
// A changed policy is then compared on listings. It returns nil when there
// is no such record or it cannot vouch for the table; only a failure to
// read the kernel is an error.
func (h *Host) lastApplied(have *State, want *Want) (*lastApply, error) {
	if h.Cache == "" {
		return nil, nil
	}
	var a applied
	data, err := os.ReadFile(h.appliedPath())
	if err != nil || json.Unmarshal(data, &a) != nil || a.NetNS != h.NetNS {
		return nil, nil
	}
	script, err := os.ReadFile(h.scriptPath())
	if sum := sha256.Sum256(script); err != nil || hex.EncodeToString(sum[:]) != a.Sum {
		return nil, nil
	}
	last := &lastApply{applied: a, script: bytesString(script)}
	if a.Generation == have.Generation && a.BootID == bootID() && a.NetNSCookie != 0 && a.NetNSCookie == h.nft.NetNSCookie() {
		last.current = true
		return last, nil
	}
	if a.Fingerprint == "" || a.Sum != want.Sum || want.Ruleset == nil {
		return nil, nil // compare listings
	}
	fp, err := have.Fingerprint()
	if err != nil || fp == "" || fp != a.Fingerprint {
		return nil, err
	}
	// A few milliseconds to tens of them: only tables of up to
	// maxFingerprintRules rules have a fingerprint.
	if sfp, err := scratchFingerprint(want); err != nil || sfp != fp {
		return nil, nil
	}
	return last, nil
}

// scratchFingerprint commits want's batch, as Apply does, into a fresh,
// empty network namespace and returns the fingerprint of the table it
// makes there. (Loading the script with nft would not do: nft merges
// adjacent matches, sport and dport into one load, where backend/nft's
// batch keeps two; the two tables behave the same but dump differently.)
func scratchFingerprint(want *Want) (string, error) {
	msgs, err := nft.Messages(want.Ruleset)
	if err != nil {
		return "", err
	}
	var fp string
	err = inNetNS(-1, true, func() error {
		ns, err := netns.Get()
		if err != nil {
			return err
		}
		defer ns.Close()
		c, err := batch.Open(batch.WithNetNS(int(ns)))
		if err != nil {
			return err
		}
		defer c.Close()
		gen, err := c.Generation()
		if err != nil {
			return err
		}
		if out, err := c.CommitMessages(gen, msgs); out != batch.Applied {
			return fmt.Errorf("load the policy into a scratch namespace: %w", err)
		}
		fp, err = fingerprint(c, 0)
		return err
	})
	return fp, err
}

// bootID identifies this boot of the kernel.
func bootID() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
}

// maxFingerprintRules bounds the rules of a table fingerprinted after an
// apply. The kernel dumps rules in 32 KiB pieces and walks the chain from
// its start for each, so a dump costs about the square of the rules:
// 2,000 take some 10 ms, 10,000 a quarter of a second, 50,000 over 3 s,
// more than the apply itself. A larger table is recorded without a
// fingerprint: plans trust it while the generation holds, and compare
// listings once it has moved.
const maxFingerprintRules = 2000

// maxFingerprintElements bounds the set elements of a table fingerprinted
// after an apply: the fingerprint dumps every set, and the kernel walks a
// set's hash table again for each piece of the dump (a million elements
// took three times as long as loading them, and four times nft's memory).
const maxFingerprintElements = 20000

// elements counts the declared elements of the ruleset's sets.
func (w *Want) elements() int {
	n := 0
	for _, s := range w.Ruleset.Sets {
		n += len(s.Elements)
	}
	return n
}

// recordApplied notes that w's script made the table committed as
// generation gen, if the ruleset is still at gen; handles, when known,
// are the kernel's handles of its rules (see handlesRecord).
func (h *Host) recordApplied(w *Want, gen uint32, handles map[string][]uint64) {
	if h.Cache == "" {
		return
	}
	var dynamic []string
	for name := range w.dynamicSets() {
		dynamic = append(dynamic, name)
	}
	slices.Sort(dynamic)
	fp, static := "", ""
	if w.rules() <= maxFingerprintRules && w.elements() <= maxFingerprintElements {
		t, err := dumpForFingerprint(h.nft, maxFingerprintSets)
		if err != nil && !errors.Is(err, batch.ErrTooManySets) {
			return
		}
		if t != nil {
			skip := map[string]bool{}
			for _, n := range dynamic {
				skip[n] = true
			}
			fp, static = digests(t, skip)
		}
	}
	if now, err := h.nft.Generation(); err != nil || now != gen {
		return // someone else committed too: the table may not be ours alone
	}
	// The script first: a record whose script is missing or another's
	// does not match its sum and is ignored.
	if !writeFile(h.scriptPath(), w.Script) {
		return
	}
	if r := (&handlesRecord{Sum: w.Sum, Generation: gen, Chains: handles}); handles == nil || !writeFile(h.handlesPath(), r.encode()) {
		_ = os.Remove(h.handlesPath())
	}
	writeCache(h.appliedPath(), applied{NetNS: h.NetNS, Sum: w.Sum, BootID: bootID(), NetNSCookie: h.nft.NetNSCookie(), Generation: gen, Fingerprint: fp,
		Dynamic: dynamic, Static: static, Time: time.Now().UTC()})
}
