package nft_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
)

// TestPartial: on every example, ElementText writes each element as Text
// does, and Partial encodes any one rule as the full batch does, but for
// the names of anonymous sets (left to the kernel), and the last message
// of its group is the rule.
func TestPartial(t *testing.T) {
	paths, _ := filepath.Glob("../../examples/*.fw")
	if len(paths) == 0 {
		t.Fatal("no examples")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			pr := nft.Prepare(lower(t, loadExample(t, path)))
			text, _ := pr.Text()
			for _, s := range pr.Sets() {
				enc, _, err := pr.SetElements(s.Name)
				if err != nil {
					t.Fatal(err)
				}
				for i, e := range s.Elements {
					txt := nft.ElementText(s, i)
					if !strings.Contains(string(text), txt) {
						t.Errorf("set %s: element %q is not in the script", s.Name, txt)
					}
					// Read back, the text is the key the batch adds.
					if s.Interval || e.Timeout > 0 {
						continue
					}
					k, ok := nft.ElementKey(s, txt)
					if !ok || string(nft.EncodeElement(nftables.SetElement{Key: k})) != string(enc[i]) {
						t.Errorf("set %s: element %q read back as %x (%v), the batch adds %x", s.Name, txt, k, ok, enc[i])
					}
				}
			}
			full, err := pr.Messages()
			if err != nil {
				t.Fatal(err)
			}
			// The full batch's rules of each chain, in order.
			rules := map[string][][]byte{}
			for _, m := range full {
				if uint16(m.Header.Type)&0xff == unix.NFT_MSG_NEWRULE {
					ch := batch.AttrString(m.Data[4:], unix.NFTA_RULE_CHAIN)
					rules[ch] = append(rules[ch], m.Data)
				}
			}
			sel := nft.Selection{Rules: map[string][]int{}}
			for ch, rs := range rules {
				for i := range rs {
					sel.Rules[ch] = append(sel.Rules[ch], i)
				}
			}
			part, err := pr.Partial(sel)
			if err != nil {
				t.Fatal(err)
			}
			for ch, rs := range rules {
				if len(part.Rules[ch]) != len(rs) {
					t.Fatalf("chain %s: %d rules encoded, want %d", ch, len(part.Rules[ch]), len(rs))
				}
				for i, g := range part.Rules[ch] {
					last := g[len(g)-1]
					if uint16(last.Header.Type)&0xff != unix.NFT_MSG_NEWRULE {
						t.Fatalf("chain %s rule %d: the group does not end with the rule", ch, i)
					}
					// Without anonymous sets the bytes are the same.
					if len(g) == 1 && string(last.Data) != string(rs[i]) {
						t.Errorf("chain %s rule %d: encoded otherwise than in the full batch:\n%x\n%x", ch, i, last.Data, rs[i])
					}
				}
			}
		})
	}
}
