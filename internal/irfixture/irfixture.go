// Package irfixture builds the IR the ir and backend tests start from out of
// policy text, through the parser, the checker and ir.Lower, as fwc
// translate does: a fixture is a policy anyone can read, load and change,
// and the tests see exactly what the pipeline makes of it.
package irfixture

import (
	_ "embed"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// Program parses and checks src as the file name (lint passes off); any
// diagnostic fails the test.
func Program(t testing.TB, name, src string) *policy.Program {
	t.Helper()
	f, ds := lang.ParseFile(name, []byte(src))
	if len(ds) > 0 {
		t.Fatalf("%s: %v", name, ds)
	}
	prog, ds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if ds.HasErrors() {
		t.Fatalf("%s: %v", name, ds)
	}
	return prog
}

// Lower is Program lowered; a lowering diagnostic fails the test.
func Lower(t testing.TB, name, src string) *ir.Ruleset {
	t.Helper()
	rs, ds := ir.Lower(Program(t, name, src))
	if len(ds) > 0 {
		t.Fatalf("%s: %v", name, ds)
	}
	return rs
}

// Host is a dual-stack host and router policy that exercises every
// construct both backends can express (host.fw).
//
//go:embed host.fw
var Host string

// StringMatch is a payload string match, which only iptables can express;
// the rule is on line 3.
const StringMatch = `table filter {
	chain input policy accept {
		tcp dport 80 string "OOXX" algo bm reject
	}
}
`

// Generated is a filter policy of n input rules of mixed shapes (addresses
// of both families, ports, interfaces, states, logs, verdicts), as a large
// generated policy would have.
func Generated(n int) string {
	var b strings.Builder
	b.WriteString("table filter {\n\tchain input policy drop {\n")
	for i := 0; i < n; i++ {
		a4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		a6 := netip.AddrFrom16([16]byte{0xfd, 0, 14: byte(i >> 8), 15: byte(i)}).String()
		port := 1024 + i%50000
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "\t\tsaddr %s, %s tcp dport %d accept\n", a4, a6, port)
		case 1:
			fmt.Fprintf(&b, "\t\tiif eth%d udp dport %d, %d drop\n", i%10, port, port+1)
		case 2:
			fmt.Fprintf(&b, "\t\tct state new tcp dport %d log prefix \"new: \" accept\n", port)
		case 3:
			fmt.Fprintf(&b, "\t\tsaddr != %s/32, 192.168.0.0/16 reject with icmp-port-unreachable\n", a4)
		case 4:
			fmt.Fprintf(&b, "\t\tdaddr %s drop\n", a4)
		}
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// PerAddress is a filter policy of n rules, one per source address, as
// blocklists written rule by rule are: every other address is dropped,
// the rest accepted.
func PerAddress(n int) string {
	var b strings.Builder
	b.WriteString("table filter {\n\tchain input policy accept {\n")
	for i := 0; i < n; i++ {
		a := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		v := "drop"
		if i%2 == 1 {
			v = "accept"
		}
		fmt.Fprintf(&b, "\t\tsaddr %s %s\n", a, v)
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}
