package apply

import (
	"encoding/json"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
)

// Status is what fwc has installed in one namespace, as `fwc status`
// shows it. Reading it changes nothing.
type Status struct {
	NetNS string `json:"netns,omitempty"`
	// Table is set when fwc's table exists.
	Table bool `json:"table"`
	// Generation is the kernel's ruleset generation.
	Generation uint32 `json:"generation"`
	// Recorded is set when the state directory holds a record of the last
	// apply here; Applied is its time (zero in records older than the
	// field) and Sum the SHA-256 of the nft script it loaded.
	Recorded bool      `json:"recorded"`
	Applied  time.Time `json:"applied,omitzero"`
	Sum      string    `json:"sum,omitempty"`
	// Match says whether the live table is what the last apply made:
	// "unchanged" (the ruleset generation has not moved since), "same"
	// (it has, but the table digests as the apply left it, the elements of
	// dynamic sets aside), "changed", or "unknown" (no record, or a record
	// without a digest: tables of more than 2,000 rules get none).
	Match string `json:"match"`
	// Waiting is the apply waiting for confirmation, nil when none.
	Waiting *Waiting `json:"waiting,omitempty"`
	// Sets are the table's named sets with their element counts.
	Sets []SetStatus `json:"sets,omitempty"`
}

// SetStatus is one named set of fwc's table.
type SetStatus struct {
	Name     string `json:"name"`
	Elements int    `json:"elements"`
	// Dynamic: the last apply's policy declares it dynamic (its elements
	// also come from run time and survive applies).
	Dynamic bool `json:"dynamic"`
}

// ReadStatus reads the status of fwc in h's namespace, with the record and
// confirmation state from the state directory h.Cache ("" for none).
func ReadStatus(h *Host) (*Status, error) {
	st := &Status{NetNS: h.NetNS, Match: "unknown"}
	gen, err := h.nft.Generation()
	if err != nil {
		return nil, err
	}
	st.Generation = gen
	var rec applied
	if h.Cache != "" {
		if data, err := os.ReadFile(h.appliedPath()); err == nil && json.Unmarshal(data, &rec) == nil && rec.NetNS == h.NetNS {
			st.Recorded, st.Applied, st.Sum = true, rec.Time, rec.Sum
		}
		if st.Waiting, err = Inspect(h.Cache, h.NetNS); err != nil {
			return nil, err
		}
	}
	// Every set's elements: anonymous ones are digested, meters counted.
	t, err := h.nft.DumpTable(nft.Table, batch.DumpOptions{
		Elements: func(string, uint32) bool { return true },
	})
	if err != nil {
		return nil, err
	}
	st.Table = t != nil
	if t == nil {
		st.Match = "changed"
		if !st.Recorded {
			st.Match = "unknown"
		}
		return st, nil
	}
	skip := map[string]bool{}
	for _, n := range rec.Dynamic {
		skip[n] = true
	}
	for _, s := range t.Sets {
		if s.Flags&unix.NFT_SET_ANONYMOUS == 0 {
			st.Sets = append(st.Sets, SetStatus{Name: s.Name, Elements: len(s.Elements), Dynamic: skip[s.Name]})
		}
	}
	slices.SortFunc(st.Sets, func(a, b SetStatus) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	switch {
	case !st.Recorded:
	case rec.Generation == gen && rec.BootID == bootID() && rec.NetNSCookie != 0 && rec.NetNSCookie == h.nft.NetNSCookie():
		st.Match = "unchanged"
	case rec.Static != "":
		// The fingerprint's dump leaves out the elements of sets the
		// packet path fills (NFT_SET_EVAL); so must this one.
		for i := range t.Sets {
			if t.Sets[i].Flags&unix.NFT_SET_EVAL != 0 {
				t.Sets[i].Elements = nil
			}
		}
		st.Match = "changed"
		if _, static := digests(t, skip); static == rec.Static {
			st.Match = "same"
		}
	}
	return st, nil
}
