package lang

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/diag"
)

// sameAsParticiple parses src with and without the fast path and fails if
// anything differs: the tree with every range, the comments, the
// diagnostics. It returns how many declarations the fast path took.
func sameAsParticiple(t testing.TB, src []byte) int {
	t.Helper()
	want, wantDs, _ := parseFile("d.fw", src, fastOff)
	got, gotDs, n := parseFile("d.fw", src, fastStrict)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: fast path tree differs:\n got %s\nwant %s", src, dump(got), dump(want))
	}
	if !reflect.DeepEqual(gotDs, wantDs) {
		t.Fatalf("%q: fast path diagnostics differ:\n got %v\nwant %v", src, gotDs, wantDs)
	}
	return n
}

func corpus(t testing.TB) map[string][]byte {
	var names []string
	for _, g := range []string{"testdata/*.fw", "testdata/fuzz/*/*", "../examples/*.fw", "../examples/*/*.fw"} {
		m, _ := filepath.Glob(g)
		names = append(names, m...)
	}
	out := map[string][]byte{}
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = src
	}
	return out
}

func TestFastPathAgrees(t *testing.T) {
	files := corpus(t)
	if len(files) < 5 {
		t.Fatalf("only %d files", len(files))
	}
	for name, src := range files {
		n := sameAsParticiple(t, src)
		f, ds := ParseFile(name, src)
		// Valid input takes the fast path, or it would not be worth having.
		if len(ds) == 0 && n != len(f.Decls) {
			t.Errorf("%s: fast path took %d of %d declarations", name, n, len(f.Decls))
		}
	}
	if n := sameAsParticiple(t, policy50k(300)); n != 300/2+4 {
		t.Errorf("fast path took %d declarations of the generated policy", n)
	}
}

// TestFastPathMutations: every statement of the test files with one token
// dropped, duplicated or swapped with its neighbour, and with every token
// replaced by a token from elsewhere.
func TestFastPathMutations(t *testing.T) {
	var toks []string
	var stmts [][]string
	for _, src := range corpus(t) {
		all, _ := lexAll("x", src)
		var cur []string
		for _, tk := range all {
			if tk.EOF() {
				break
			}
			cur = append(cur, tk.Value)
			toks = append(toks, tk.Value)
			if tk.Type == tokEOL && tk.Value == "\n" && len(cur) > 1 {
				stmts = append(stmts, cur)
				cur = nil
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	for _, s := range stmts {
		for i := range s {
			variants := [][]string{
				append(append([]string{}, s[:i]...), s[i+1:]...),
				append(append([]string{}, s[:i+1]...), s[i:]...),
				append(append(append([]string{}, s[:i]...), toks[r.IntN(len(toks))]), s[i+1:]...),
			}
			if i+1 < len(s) {
				sw := append([]string{}, s...)
				sw[i], sw[i+1] = sw[i+1], sw[i]
				variants = append(variants, sw)
			}
			for _, v := range variants {
				sameAsParticiple(t, []byte(strings.Join(v, "")))
				n++
			}
		}
	}
	if n < 1000 {
		t.Errorf("only %d mutations", n)
	}
}

// TestFastPathRandom: random declarations from the grammar's pieces, most
// of them valid, and each again with one token dropped, doubled or
// replaced.
func TestFastPathRandom(t *testing.T) {
	matches := []string{"saddr 1.2.3.4", "daddr != 10.0.0.0/8, $x", "tcp dport 22", "udp sport { 53, 1000-2000 }",
		"sport 1-2", "tcp flags syn|ack / syn|ack|rst", "tcp flags != fin", "tcp syn", "iif eth0", "oif != wg*", "service web",
		"icmp type echo-request", "icmpv6 type != 1", "ct state new, established", "ct status dnat", "mark 0x1/0xff",
		"ct mark 1", "mark route a", "mark != 2", "family ipv4", "limit 10/second burst 5", "limit over 1/minute",
		"meter m per saddr mask 24 over 10/second burst 3", "meter m per daddr 1/second", "connlimit over 3 mask 24",
		"hour 08:00-17:00", "day mon", "date 2024-01-01", "probability 0.5", `string "x" algo bm`, `string != "y"`,
		"saddr . tcp dport @s", "tcp sport . udp dport @s", "saddr . daddr != @p", "proto tcp", "proto != { udp, tcp }",
		"mark . saddr @m", "saddr [fd00::1]:80", "daddr 1.2.3.4:80-90 . 22", "saddr @set", "dport $ports"}
	actions := []string{"accept", "drop", "return", "reject with tcp-reset", "reject", "jump x", "goto y",
		`log prefix "a" level info flags all, ip`, "log", "counter", "mark set 1", "connmark set 0x2", "ct mark set 3",
		"connmark save mask 0xff", "connmark restore", "route a", "snat to 1.2.3.4", "dnat to :80 random persistent",
		"masquerade random-fully", "redirect to :8080", "notrack", "trace", "tos set 0x10", "ttl set 64"}
	others := []string{`include "a.fw"`, "define x = 1, 2 . 3, { a, b }", "service web = tcp/{ 80, 443 }, udp/53",
		"zone lan { iface eth1, eth2\n net 10.0.0.0/8; net fd00::/8 }", "zone z {}", "zone z {\n}",
		"set s : ipv4_addr . port { timeout 1h; size 10; elements { 1.2.3.4 . 80 timeout 1m, 5.6.7.8 . 1 } }",
		"set s : ipv4_addr.port", "set s : ifname { elements {\n} }", "policy a -> b accept", `policy a -> b log prefix "x" drop`,
		"route r { mark 0x1; table 10; priority 100; default via 1.2.3.4 dev eth0\n 10.0.0.0/8 dev eth1 }",
		"balance b { address 1.2.3.4; service tcp/80; endpoints 1.1.1.1:80, [fd00::1]:80; masquerade }"}
	r := rand.New(rand.NewPCG(5, 6))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	rule := func() string {
		var parts []string
		for range r.IntN(4) {
			parts = append(parts, pick(matches))
		}
		for range 1 + r.IntN(3) {
			parts = append(parts, pick(actions))
		}
		return strings.Join(parts, " ")
	}
	decl := func() string {
		switch r.IntN(3) {
		case 0:
			return "from a to b " + rule()
		case 1:
			var b strings.Builder
			b.WriteString("table t {\n chain c policy drop priority -10 {\n")
			for range r.IntN(4) {
				b.WriteString(rule() + pick([]string{"\n", "; ", "\n\n # c\n"}))
			}
			b.WriteString("}\n chain d { " + rule() + " }\n}")
			return b.String()
		}
		return pick(others)
	}
	n := 800
	if testing.Short() {
		n = 100
	}
	took, all := 0, 0
	for range n {
		src := decl() + "\n" + decl()
		took += sameAsParticiple(t, []byte(src))
		all += 2
		toks, _ := lexAll("x", []byte(src))
		toks = toks[:len(toks)-1]
		for range 4 {
			i := r.IntN(len(toks))
			var b strings.Builder
			for j, tk := range toks {
				switch {
				case j != i:
					b.WriteString(tk.Value)
				case r.IntN(3) == 0:
					b.WriteString(tk.Value + " " + tk.Value)
				case r.IntN(2) == 0:
					b.WriteString(" " + pick(strings.Fields(pick(append(matches, actions...)))) + " ")
				}
			}
			sameAsParticiple(t, []byte(b.String()))
		}
	}
	if took < all*9/10 {
		t.Errorf("fast path took %d of %d valid declarations", took, all)
	}
}

func FuzzFastPath(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		sameAsParticiple(t, src)
	})
}

// TestFastPathStreamedRules: the fast path converts a chain's rules as it
// parses them (with their diagnostics); when a later rule makes it decline,
// the tree and diagnostics are participle's alone, not doubled.
func TestFastPathStreamedRules(t *testing.T) {
	for _, src := range []string{
		"table filter {\n\tchain input {\n\t\tudp sport . tcp dport @s accept\n\t\ttcp dport 22 accept\n\t}\n}\n",
		"table filter {\n\tchain input {\n\t\tudp sport . tcp dport @s accept\n\t\ttcp dport 22 accept\n\t\ttcp dport ( accept\n\t}\n}\n",
		"table filter {\n\tchain input {\n\t\tudp sport . tcp dport @s accept\n\t}\n\tchain output {\n\t\tsaddr 10.0.0.1 accept\n\t} junk\n}\n",
	} {
		sameAsParticiple(t, []byte(src))
		_, ds := ParseFile("d.fw", []byte(src))
		n := 0
		for _, d := range ds {
			if d.Code == "FW0004" {
				n++
			}
		}
		if n > 1 {
			t.Errorf("%q: FW0004 reported %d times: %v", src, n, ds)
		}
		if len(ds) == 0 {
			t.Errorf("%q: no diagnostics", src)
		}
	}
}

// TestFastBugReported: a panic in the fast path (a bug, not a decline) is
// not swallowed: the declaration is parsed by participle, so the tree is
// the same as without the fast path, and a warning says what happened.
func TestFastBugReported(t *testing.T) {
	src := []byte("zone lan { iface eth1 }\npolicy lan -> lan accept\n")
	want, wantDs, _ := parseFile("d.fw", src, fastOff)
	if len(wantDs) != 0 {
		t.Fatalf("participle: %v", wantDs)
	}
	injectFastBug = func() { panic("index out of range (injected)") }
	defer func() { injectFastBug = nil }()
	got, ds, fast := parseFile("d.fw", src, fastOn)
	if fast != 0 {
		t.Errorf("the fast path took %d declarations while panicking", fast)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tree after the fallback differs from participle's:\n%s\nwant:\n%s", dump(got), dump(want))
	}
	if len(ds) != 2 {
		t.Fatalf("want one FW0009 per declaration, got %v", ds)
	}
	for i, d := range ds {
		if d.Code != "FW0009" || d.Severity != diag.Warning || !strings.Contains(d.Summary, "injected") || d.Subject.Start.Line != i+1 {
			t.Errorf("diagnostic %d: %+v", i, d)
		}
	}
}

// TestFastBugStrictPanics: under strict mode, which the tests that hold the
// fast path to participle use, a fast-path bug is not recovered at all: it
// propagates out of parseFile, so those tests fail on it instead of passing
// on participle's fallback.
func TestFastBugStrictPanics(t *testing.T) {
	injectFastBug = func() { panic("index out of range (injected)") }
	defer func() { injectFastBug = nil }()
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "injected") {
			t.Errorf("strict mode: recovered %v, want the injected panic", r)
		}
	}()
	parseFile("d.fw", []byte("zone lan { iface eth1 }\n"), fastStrict)
	t.Error("strict mode: parseFile returned after a fast-path panic")
}
