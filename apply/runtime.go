package apply

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/ir"
)

// Runtime elements. A dynamic set is one whose elements also come from run
// time: `nft add element` by fail2ban and the like, or the ruleset itself
// (meters, connection counts). Its declared elements are a floor, not the
// whole: an apply keeps what the kernel holds in it, in the same atomic
// batch that replaces the table, and a plan shows those elements as kept.
// A set is dynamic when its elements can only come from run time, or
// expire: it declares none, or has a timeout (its own or an element's);
// or when the policy says so with the keyword `dynamic`.

// keepsRuntime reports whether s is a dynamic set in that sense.
func keepsRuntime(s *ir.Set) bool {
	if s.Dynamic || s.Keep || s.Timeout > 0 || len(s.Elements) == 0 {
		return true
	}
	for _, e := range s.Elements {
		if e.Timeout > 0 {
			return true
		}
	}
	return false
}

// dynamicSets returns want's dynamic sets by name.
func (w *Want) dynamicSets() map[string]*ir.Set {
	if w.Ruleset == nil {
		return nil
	}
	out := map[string]*ir.Set{}
	for _, s := range w.Ruleset.Sets {
		if keepsRuntime(s) {
			out[s.Name] = s
		}
	}
	return out
}

// setShape are the set attributes an element must agree with to be added
// again: the key and data types and lengths, and the flags that change
// what an element is (interval, map, timeout, concatenation, object map,
// updated from the packet path).
var setShape = []uint16{unix.NFTA_SET_KEY_TYPE, unix.NFTA_SET_KEY_LEN, unix.NFTA_SET_DATA_TYPE, unix.NFTA_SET_DATA_LEN, unix.NFTA_SET_OBJ_TYPE}

const shapeFlags = unix.NFT_SET_INTERVAL | unix.NFT_SET_MAP | unix.NFT_SET_TIMEOUT | nftSetConcat | unix.NFT_SET_OBJECT | unix.NFT_SET_EVAL

// nftSetConcat is NFT_SET_CONCAT, newer than golang.org/x/sys/unix's list.
const nftSetConcat = 0x80

func shape(set []byte) []byte {
	out := binaryU32(batch.AttrU32(set, unix.NFTA_SET_FLAGS) & shapeFlags)
	for _, a := range attrs(set) {
		for _, t := range setShape {
			if a.Type&^unix.NLA_F_NESTED == t {
				out = append(out, byte(t))
				out = append(out, a.Data...)
			}
		}
	}
	return out
}

func binaryU32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// runtimeElements reads the elements the kernel holds now in want's
// dynamic sets and returns the messages that add them again, for the end
// of msgs (the batch that replaces fwc's table, which creates the sets).
// A live set whose shape differs from the new one's (another type, an
// interval set that became a plain one, a timeout dropped) keeps nothing:
// its elements would not fit. An interval set keeps its elements only when
// it declares none, so that no kept interval can overlap a declared one.
// The batch is guarded by the generation the plan read, so an element
// added with `nft add element` after that makes the commit refuse rather
// than lose it; elements the packet path adds in between are not seen.
func runtimeElements(c *batch.Conn, w *Want, msgs []netlink.Message) ([]netlink.Message, error) {
	dyn := w.dynamicSets()
	if len(dyn) == 0 {
		return nil, nil
	}
	wantShape := map[string][]byte{}
	newSet := netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSET)
	for _, m := range msgs {
		if m.Header.Type != newSet || len(m.Data) < 4 {
			continue
		}
		name := batch.AttrString(m.Data[4:], unix.NFTA_SET_NAME)
		if dyn[name] != nil {
			wantShape[name] = shape(m.Data[4:])
		}
	}
	live, err := c.DumpTable(nft.Table, batch.DumpOptions{SetsOnly: true, Elements: func(name string, _ uint32) bool {
		s, ok := dyn[name]
		return ok && wantShape[name] != nil && (!s.Interval || len(s.Elements) == 0)
	}})
	if err != nil || live == nil {
		return nil, err
	}
	var out []netlink.Message
	for _, s := range live.Sets {
		if len(s.Elements) == 0 || !bytes.Equal(shape(s.Attrs), wantShape[s.Name]) {
			continue
		}
		elems := make([][]byte, 0, len(s.Elements))
		for _, e := range s.Elements {
			elems = append(elems, withoutPad(e))
		}
		out = append(out, batch.ElementMessages(nft.Table, s.Name, elems)...)
	}
	return out, nil
}

// withoutPad re-encodes an element's attributes without NFTA_SET_ELEM_PAD,
// which the kernel puts in dumps for alignment and does not take back.
func withoutPad(e []byte) []byte {
	as := attrs(e)
	keep := as[:0]
	for _, a := range as {
		if a.Type&^unix.NLA_F_NESTED != unix.NFTA_SET_ELEM_PAD {
			keep = append(keep, a)
		}
	}
	b, err := netlink.MarshalAttributes(keep)
	if err != nil {
		return e
	}
	return b
}

// keepRuntime moves the removals of elements from dynamic sets out of a
// plan's table changes, into the elements kept ('=' lines): Apply adds
// them again (see runtimeElements), under the same conditions, which it
// decides from the kernel's attributes and the plan from nft's listings
// (the same type and flags lines).
func keepRuntime(changes []Change, have, want *Table, dyn map[string]*ir.Set) (rest, kept []Change) {
	if len(dyn) == 0 || have == nil || want == nil {
		return changes, nil
	}
	keeps := map[string]bool{}
	for _, w := range want.Sets {
		s := dyn[w.Name]
		if w.Kind != "set" || s == nil || (s.Interval && len(s.Elements) > 0) {
			continue
		}
		for _, h := range have.Sets {
			if h.Kind == w.Kind && h.Name == w.Name && slices.Equal(shapeProps(h.Props), shapeProps(w.Props)) {
				keeps["set "+w.Name] = true
			}
		}
	}
	for _, c := range changes {
		if c.Op == '-' && keeps[c.What] && (strings.HasPrefix(c.Detail, "element ") || strings.HasSuffix(c.Detail, " more elements")) {
			c.Op = '='
			kept = append(kept, c)
			continue
		}
		rest = append(rest, c)
	}
	return rest, kept
}

// shapeProps are the lines of a set's listing its elements must agree
// with: its type and its flags.
func shapeProps(props []string) []string {
	var out []string
	for _, p := range props {
		if strings.HasPrefix(p, "type ") || strings.HasPrefix(p, "typeof ") || strings.HasPrefix(p, "flags ") {
			out = append(out, p)
		}
	}
	return out
}

// keptCount counts the elements kept lines stand for.
func keptCount(kept []Change) int {
	n := 0
	for _, c := range kept {
		var more int
		if _, err := fmt.Sscanf(c.Detail, "and %d more elements", &more); err == nil {
			n += more
		} else {
			n++
		}
	}
	return n
}
