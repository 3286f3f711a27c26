package nft_test

import (
	"bytes"
	"github.com/fwcproject/fwc/internal/irfixture"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/ir"
)

// TestRuleEncoderMatchesConn: Messages' own rule encoder sends the bytes
// google/nftables' AddRule would, message for message, for every example,
// the coverage ruleset and a generated policy. (It needs no kernel: the
// differential tests check the kernel's view of the same bytes.)
func TestRuleEncoderMatchesConn(t *testing.T) {
	cases := map[string]*ir.Ruleset{
		"coverage":  coverage(),
		"generated": generated(t, 2000),
		"host":      irfixture.Lower(t, "host.fw", irfixture.Host),
	}
	files, _ := filepath.Glob("../../examples/*.fw")
	for _, f := range files {
		cases[filepath.Base(f)] = lower(t, loadExample(t, f))
	}
	for name, rs := range cases {
		t.Run(name, func(t *testing.T) {
			want, werr := nft.MessagesViaConn(rs)
			got, gerr := nft.Messages(rs)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("errors differ: via Conn %v, direct %v", werr, gerr)
			}
			if len(got) != len(want) {
				t.Fatalf("%d messages, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Header != want[i].Header || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("message %d differs:\n got %+v %x\nwant %+v %x", i, got[i].Header, got[i].Data, want[i].Header, want[i].Data)
				}
			}
			if len(want) == 0 && werr == nil {
				t.Fatal("no messages")
			}
		})
	}
}
