package iptables

import (
	"bytes"
	"testing"

	"github.com/fwcproject/fwc/internal/fuzzutil"
)

// FuzzIptables: reading never panics, never hangs, puts every position
// inside the input; and a file read without errors prints to text that reads
// again without errors and prints the same (Print loses nothing of the
// model).
func FuzzIptables(f *testing.F) {
	fuzzutil.AddFiles(f, "testdata/corpus/*/*", "testdata/made/*.v4")
	f.Add([]byte("*filter\n-A INPUT -m comment --comment \"a \\\"b\\\"\" ! -s 1.2.3.4 -p tcp --dport ! 22 -j LOG --log-prefix \"x: \"\nCOMMIT\n"))
	f.Add([]byte("*nat\n-I PREROUTING 2 -j DNAT\n*filter\n\x00"))
	f.Fuzz(func(t *testing.T, src []byte) {
		stop := fuzzutil.Deadline(10e9, "iptables.Read", src)
		defer stop()
		fl, ds := ReadBytes(src, "fuzz.v4", Options{MaxLine: 4096})
		checkPositions(t, src, fl, ds)
		var out bytes.Buffer
		if err := Print(&out, fl, PrintOptions{Counters: true}); err != nil {
			t.Fatal(err)
		}
		if ds.HasErrors() {
			return
		}
		fl2, ds2 := ReadBytes(out.Bytes(), "printed.v4", Options{})
		if ds2.HasErrors() {
			t.Fatalf("printed text does not read back: %v\n--- input\n%q\n--- printed\n%s", ds2, src, out.String())
		}
		var out2 bytes.Buffer
		if err := Print(&out2, fl2, PrintOptions{Counters: true}); err != nil {
			t.Fatal(err)
		}
		if out.String() != out2.String() {
			t.Fatalf("printing is not stable\n--- first\n%s\n--- second\n%s", out.String(), out2.String())
		}
	})
}
