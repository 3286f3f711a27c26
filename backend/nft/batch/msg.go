package batch

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Message types the kernel knows that x/sys/unix does not name yet.
const (
	msgDestroyTable     = 0x1a
	msgDestroyChain     = 0x1b
	msgDestroyRule      = 0x1c
	msgDestroySet       = 0x1d
	msgDestroySetElem   = 0x1e
	msgDestroyObj       = 0x1f
	msgDestroyFlowtable = 0x20
)

var opNames = map[uint16]string{
	unix.NFT_MSG_NEWTABLE:     "add table",
	unix.NFT_MSG_DELTABLE:     "delete table",
	msgDestroyTable:           "destroy table",
	unix.NFT_MSG_NEWCHAIN:     "add chain",
	unix.NFT_MSG_DELCHAIN:     "delete chain",
	msgDestroyChain:           "destroy chain",
	unix.NFT_MSG_NEWRULE:      "add rule",
	unix.NFT_MSG_DELRULE:      "delete rule",
	msgDestroyRule:            "destroy rule",
	unix.NFT_MSG_NEWSET:       "add set",
	unix.NFT_MSG_DELSET:       "delete set",
	msgDestroySet:             "destroy set",
	unix.NFT_MSG_NEWSETELEM:   "add set elements",
	unix.NFT_MSG_DELSETELEM:   "delete set elements",
	msgDestroySetElem:         "destroy set elements",
	unix.NFT_MSG_NEWOBJ:       "add object",
	unix.NFT_MSG_DELOBJ:       "delete object",
	msgDestroyObj:             "destroy object",
	unix.NFT_MSG_NEWFLOWTABLE: "add flowtable",
	unix.NFT_MSG_DELFLOWTABLE: "delete flowtable",
	msgDestroyFlowtable:       "destroy flowtable",
}

// msgInfo is what a batch message says about itself, decoded from its header
// and first attributes. For every message type above, attribute 1 is the
// table name; the object name is attribute 3 for chains and 2 otherwise (for
// rules it is the chain).
type msgInfo struct {
	typ    uint16 // NFT_MSG_*, without the subsystem byte
	flags  netlink.HeaderFlags
	family nftables.TableFamily
	table  string
	object string
	rule   int // position among this batch's added rules of the chain, or -1
	handle bool
}

func decodeMsg(m netlink.Message) msgInfo {
	info := msgInfo{typ: uint16(m.Header.Type) & 0xff, flags: m.Header.Flags, rule: -1}
	if len(m.Data) < 4 {
		return info
	}
	info.family = nftables.TableFamily(m.Data[0])
	ad, err := netlink.NewAttributeDecoder(m.Data[4:])
	if err != nil {
		return info
	}
	objAttr := uint16(2)
	if info.typ == unix.NFT_MSG_NEWCHAIN || info.typ == unix.NFT_MSG_DELCHAIN || info.typ == msgDestroyChain {
		objAttr = unix.NFTA_CHAIN_NAME
	}
	for ad.Next() {
		switch ad.Type() {
		case 1:
			info.table = ad.String()
		case objAttr:
			info.object = ad.String()
		}
		// NFTA_RULE_HANDLE: a rule message that names a handle addresses one
		// existing rule (delete or replace) instead of appending.
		if (info.typ == unix.NFT_MSG_NEWRULE || info.typ == unix.NFT_MSG_DELRULE) && ad.Type() == unix.NFTA_RULE_HANDLE {
			info.handle = true
		}
	}
	return info
}

func (i msgInfo) op() string {
	if s, ok := opNames[i.typ]; ok {
		return s
	}
	return fmt.Sprintf("message type %d", i.typ)
}

type tableKey struct {
	family nftables.TableFamily
	name   string
}

type chainKey struct {
	tableKey
	name string
}

// expectation is what the kernel ruleset must show after the batch if, and
// as far as one can tell from the outside only if, the batch was applied.
// It is checked only when the kernel's answer to a commit was lost.
type expectation struct {
	tables map[tableKey]bool // table must exist (true) or be absent (false)
	chains map[chainKey]bool // chain must exist (true) or be absent (false)
	rules  map[chainKey]int  // exact rule count, for chains the batch fully determines
}

// expect works out the expectation of a batch. A table is "fresh" once the
// batch has deleted it (or flushed the whole ruleset): from then on its
// content is exactly what the batch adds, so rule counts of its chains can be
// predicted, unless the batch deletes or replaces single rules.
func expect(infos []msgInfo) expectation {
	e := expectation{tables: map[tableKey]bool{}, chains: map[chainKey]bool{}, rules: map[chainKey]int{}}
	fresh := map[tableKey]bool{}
	uncountable := map[chainKey]bool{}
	freshAll := false
	for _, in := range infos {
		tk := tableKey{in.family, in.table}
		ck := chainKey{tk, in.object}
		switch in.typ {
		case unix.NFT_MSG_NEWTABLE:
			e.tables[tk] = true
			if freshAll {
				fresh[tk] = true
			}
		case unix.NFT_MSG_DELTABLE, msgDestroyTable:
			if in.table == "" { // flush ruleset
				freshAll = true
				for k := range e.tables {
					e.tables[k] = false
				}
				for k := range e.chains {
					e.chains[k] = false
				}
				clear(e.rules)
				continue
			}
			e.tables[tk] = false
			fresh[tk] = true
			for k := range e.chains {
				if k.tableKey == tk {
					e.chains[k] = false
					delete(e.rules, k)
				}
			}
		case unix.NFT_MSG_NEWCHAIN:
			e.chains[ck] = true
			if fresh[tk] {
				if _, ok := e.rules[ck]; !ok {
					e.rules[ck] = 0
				}
			}
		case unix.NFT_MSG_DELCHAIN, msgDestroyChain:
			e.chains[ck] = false
			delete(e.rules, ck)
		case unix.NFT_MSG_NEWRULE:
			if in.handle || in.flags&netlink.Replace != 0 {
				uncountable[ck] = true
			}
			e.rules[ck]++
		case unix.NFT_MSG_DELRULE, msgDestroyRule:
			if in.handle {
				uncountable[ck] = true
			} else {
				e.rules[ck] = 0 // flush chain
			}
		}
	}
	for k := range e.rules {
		if uncountable[k] || !fresh[k.tableKey] || !e.chains[k] {
			delete(e.rules, k)
		}
	}
	return e
}

// empty reports whether the expectation checks nothing at all, in which case
// it cannot tell an applied batch from someone else's commit.
func (e expectation) empty() bool {
	return len(e.tables) == 0 && len(e.chains) == 0
}

// mismatch checks the expectation against the kernel and returns the first
// difference, "" when everything matches.
func (e expectation) mismatch(q *nftables.Conn, countRules func(chainKey) (int, error)) (string, error) {
	tables, err := q.ListTables()
	if err != nil {
		return "", fmt.Errorf("list tables: %w", err)
	}
	haveT := map[tableKey]bool{}
	for _, t := range tables {
		haveT[tableKey{t.Family, t.Name}] = true
	}
	for k, want := range e.tables {
		if haveT[k] != want {
			return fmt.Sprintf("table %s %s present=%v, want %v", familyName(k.family), k.name, haveT[k], want), nil
		}
	}
	chains, err := q.ListChains()
	if err != nil {
		return "", fmt.Errorf("list chains: %w", err)
	}
	haveC := map[chainKey]bool{}
	for _, c := range chains {
		haveC[chainKey{tableKey{c.Table.Family, c.Table.Name}, c.Name}] = true
	}
	for k, want := range e.chains {
		if haveC[k] != want {
			return fmt.Sprintf("chain %s %s %s present=%v, want %v", familyName(k.family), k.tableKey.name, k.name, haveC[k], want), nil
		}
	}
	for k, want := range e.rules {
		n, err := countRules(k)
		if err != nil {
			return "", err
		}
		if n != want {
			return fmt.Sprintf("chain %s %s %s has %d rules, want %d", familyName(k.family), k.tableKey.name, k.name, n, want), nil
		}
	}
	return "", nil
}

// nfgenmsg returns the 4-byte nfnetlink header: family, version, resource ID
// (big endian).
func nfgenmsg(family uint8, resID uint16) []byte {
	b := []byte{family, unix.NFNETLINK_V0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], resID)
	return b
}
