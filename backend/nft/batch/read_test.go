package batch_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestReadElementsBack: elements read with SetElements go back into a
// batch with ElementMessages unchanged, timeouts included, in messages
// that fit (20,000 elements is several times one attribute's 64 KiB), and
// an independent listing (nft) counts them all. DumpTable and TableExists
// see the table; a missing table is nil and false, not an error.
func TestReadElementsBack(t *testing.T) {
	ns, c := openNS(t)
	if ok, err := c.TableExists("t"); ok || err != nil {
		t.Fatalf("TableExists before: %v, %v", ok, err)
	}
	if d, err := c.DumpTable("t", batch.DumpOptions{}); d != nil || err != nil {
		t.Fatalf("DumpTable of a missing table: %v, %v", d, err)
	}
	const n = 20000
	var b strings.Builder
	b.WriteString("table inet t {\n\tset a { type ipv4_addr; flags timeout; timeout 1h; }\n\tset b { type ipv4_addr; flags timeout; timeout 1h; }\n}\nadd element inet t a { ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if i == 7 {
			b.WriteString(" timeout 2h")
		}
	}
	b.WriteString(" }\n")
	script := filepath.Join(t.TempDir(), "t.nft")
	if err := os.WriteFile(script, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	testnetns.Run(t, ns, "nft", "-f", script)

	d, err := c.DumpTable("t", batch.DumpOptions{Elements: func(name string, _ uint32) bool { return name == "a" }})
	if err != nil || d == nil || len(d.Sets) != 2 {
		t.Fatalf("DumpTable: %v, %+v", err, d)
	}
	elems, err := c.SetElements("t", "a")
	if err != nil || len(elems) != n {
		t.Fatalf("SetElements: %d elements, %v; want %d", len(elems), err, n)
	}
	msgs := batch.ElementMessages("t", "b", elems)
	if len(msgs) < 2 {
		t.Fatalf("%d messages for %d elements: not split", len(msgs), n)
	}
	if out, err := c.CommitMessages(generation(t, c), msgs); out != batch.Applied {
		t.Fatalf("CommitMessages: %v %v", out, err)
	}
	list := testnetns.Run(t, ns, "nft", "list", "set", "inet", "t", "b")
	if got := len(regexp.MustCompile(`\b10\.\d+\.\d+\.\d+\b`).FindAllString(list, -1)); got != n {
		t.Errorf("set b holds %d elements, want %d", got, n)
	}
	if !strings.Contains(list, "10.0.0.7 timeout 2h") {
		t.Errorf("the element's own timeout was not kept")
	}
}
