package nft

import (
	"testing"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/fuzzutil"
)

// checkPositions: every diagnostic and every rule points inside the input.
func checkPositions(t *testing.T, src []byte, f *File, ds diag.Diagnostics) {
	t.Helper()
	in := func(r diag.Range) bool {
		return r.Start.Byte >= 0 && r.Start.Byte <= len(src) && r.End.Byte <= len(src)+1 && r.Start.Line >= 1
	}
	for _, d := range ds {
		if !in(d.Subject) {
			t.Fatalf("diagnostic outside the input: %v", d)
		}
	}
	for _, tb := range f.Tables {
		for _, c := range tb.Chains {
			for _, r := range c.Rules {
				if !in(r.Range) {
					t.Fatalf("rule outside the input: %v %q", r.Range, r.Text)
				}
			}
		}
	}
}

// FuzzReadText: reading nft text never panics, never hangs, and positions
// everything inside the input.
func FuzzReadText(f *testing.F) {
	fuzzutil.AddFiles(f, "testdata/conf/*", "testdata/conf/conf.d/*", "testdata/listed.nft", "../convert/testdata/nft/*.nft")
	f.Add([]byte("define x = { 1, 2 }\ntable inet t { chain c { tcp dport $x accept; iifname vmap { \"a\" : jump c }; }\n"))
	f.Add([]byte("table ip t { set s { type ipv4_addr . inet_service; elements = { 1.2.3.4 . 80 timeout 1h comment \"x\" } } }"))
	f.Add([]byte("add rule ip t c meter m size 10 { ip saddr and 255.255.255.0 limit rate over 1/second } drop"))
	f.Fuzz(func(t *testing.T, src []byte) {
		stop := fuzzutil.Deadline(10e9, "nft.ReadText", src)
		defer stop()
		fl, ds := ReadText(src, "fuzz.nft", Options{})
		checkPositions(t, src, fl, ds)
	})
}

// FuzzReadJSON: reading nft JSON never panics or hangs, and positions
// everything inside the input.
func FuzzReadJSON(f *testing.F) {
	fuzzutil.AddFiles(f, "testdata/listed.json")
	f.Add([]byte(`{"nftables": [{"table": {"family": "ip", "name": "t"}}, {"chain": {"family": "ip", "table": "t", "name": "c", "hook": "input", "prio": 0, "type": "filter"}}, {"rule": {"family": "ip", "table": "t", "chain": "c", "expr": [{"match": {"op": "==", "left": {"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, ["syn", "ack"]]}, "right": "syn"}}, {"vmap": {"key": {"meta": {"key": "iifname"}}, "data": {"set": [["lo", {"accept": null}]]}}}]}}]}`))
	f.Add([]byte(`{"nftables": [{"rule": 5}, [], {"set": {"elem": [{"elem": {"val": {"range": [1]}}}]}}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		stop := fuzzutil.Deadline(10e9, "nft.ReadJSON", src)
		defer stop()
		fl, ds := ReadJSON(src, "fuzz.json", Options{})
		checkPositions(t, src, fl, ds)
	})
}
