package batch_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft/batch"
)

// elemListLens returns, for each set-element message, the length field of
// its NFTA_SET_ELEM_LIST_ELEMENTS attribute and the true length of the list.
func elemListLens(t *testing.T, msgs []netlink.Message) (field, actual []int) {
	t.Helper()
	for _, m := range msgs {
		if uint16(m.Header.Type)&0xff != unix.NFT_MSG_NEWSETELEM {
			continue
		}
		b := m.Data[4:]
		for len(b) >= 4 {
			l := int(binary.NativeEndian.Uint16(b))
			typ := binary.NativeEndian.Uint16(b[2:]) &^ unix.NLA_F_NESTED
			if typ == unix.NFTA_SET_ELEM_LIST_ELEMENTS {
				field = append(field, l)
				actual = append(actual, len(b))
				break
			}
			b = b[(l+3)&^3:]
		}
	}
	return field, actual
}

func TestAddSetElementsChunks(t *testing.T) {
	t.Parallel()
	v4 := func(i int) []byte { return []byte{10, byte(i >> 16), byte(i >> 8), byte(i)} }
	v6 := func(i int) []byte {
		b := make([]byte, 16)
		b[0] = 0x20
		binary.BigEndian.PutUint32(b[12:], uint32(i))
		return b
	}
	cases := []struct {
		name string
		set  nftables.Set
		elem func(i int) []nftables.SetElement
	}{
		{"ipv4", nftables.Set{KeyType: nftables.TypeIPAddr}, func(i int) []nftables.SetElement {
			return []nftables.SetElement{{Key: v4(i)}}
		}},
		{"ipv6", nftables.Set{KeyType: nftables.TypeIP6Addr}, func(i int) []nftables.SetElement {
			return []nftables.SetElement{{Key: v6(i)}}
		}},
		{"ipv4 intervals", nftables.Set{KeyType: nftables.TypeIPAddr, Interval: true}, func(i int) []nftables.SetElement {
			return []nftables.SetElement{{Key: v4(2 * i)}, {Key: v4(2*i + 1), IntervalEnd: true}}
		}},
		{"verdict map with comments and timeouts", nftables.Set{KeyType: nftables.TypeIPAddr, IsMap: true, DataType: nftables.TypeVerdict, HasTimeout: true},
			func(i int) []nftables.SetElement {
				return []nftables.SetElement{{Key: v4(i), Timeout: time.Hour, Comment: fmt.Sprintf("element number %d", i),
					VerdictData: &expr.Verdict{Kind: expr.VerdictJump, Chain: "some-chain-name"}}}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var elems []nftables.SetElement
			for i := range 50000 {
				elems = append(elems, tc.elem(i)...)
			}
			set := tc.set
			set.Name = "s"
			set.Table = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: "t"}
			msgs, err := batch.Capture(func(c *nftables.Conn) error {
				if err := c.AddSet(&set, nil); err != nil {
					return err
				}
				return batch.AddSetElements(c, &set, elems)
			})
			if err != nil {
				t.Fatal(err)
			}
			field, actual := elemListLens(t, msgs)
			if len(field) < 2 {
				t.Fatalf("%d element messages for %d elements; want several", len(field), len(elems))
			}
			for i := range field {
				if field[i] != actual[i] || actual[i] > 0xffff {
					t.Errorf("message %d: element list is %d bytes, its length field says %d", i, actual[i], field[i])
				}
			}
			t.Logf("%d elements in %d messages", len(elems), len(field))
		})
	}
}

// TestSetAddElementsTrap documents why AddSetElements exists: one
// google/nftables v0.3.0 SetAddElements call with over 4095 IPv4 elements
// wraps the 16-bit attribute length. If this starts failing, v0.3.0 is no
// longer what we use, and AddSetElements may be simplified.
func TestSetAddElementsTrap(t *testing.T) {
	t.Parallel()
	elems := make([]nftables.SetElement, 10000)
	for i := range elems {
		elems[i].Key = []byte{10, 0, byte(i >> 8), byte(i)}
	}
	set := &nftables.Set{Name: "s", KeyType: nftables.TypeIPAddr, Table: &nftables.Table{Family: nftables.TableFamilyIPv4, Name: "t"}}
	msgs, err := batch.Capture(func(c *nftables.Conn) error { return c.SetAddElements(set, elems) })
	if err != nil {
		t.Fatal(err)
	}
	field, actual := elemListLens(t, msgs)
	if len(field) != 1 || field[0] == actual[0] {
		t.Errorf("length field %v, actual %v: google/nftables no longer overflows", field, actual)
	}
}

func TestEveryRuleRefused(t *testing.T) {
	t.Parallel()
	_, c := openNS(t)
	pre := generation(t, c)
	out, err := c.Commit(pre, func(nc *nftables.Conn) error {
		buildRules("fwc", 0, -1)(nc)
		return nil
	})
	if out != batch.Applied {
		t.Fatal(out, err)
	}
	const n = 10000
	out, err = c.Commit(0, func(nc *nftables.Conn) error {
		t := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: "fwc"}
		ch := &nftables.Chain{Name: "input", Table: t}
		for i := range n {
			v := &expr.Verdict{Kind: expr.VerdictJump, Chain: "missing"}
			nc.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: ruleExprs(i, v)})
		}
		return nil
	})
	if out != batch.NotApplied || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Commit = %v, %v; want not applied, ENOENT", out, err)
	}
	var me *batch.MessageError
	if !errors.As(err, &me) || me.Index != 0 {
		t.Errorf("first MessageError = %+v, want index 0", me)
	}
	if got := generation(t, c); got != pre+1 {
		t.Errorf("generation %d, want %d", got, pre+1)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("and %d more refused messages", n-20)) {
		t.Errorf("error does not count all %d refusals: ...%s", n, err.Error()[max(0, len(err.Error())-200):])
	}
	t.Logf("%.300s", err)
}
