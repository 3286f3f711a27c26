package nft

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/diag"
)

func codes(ds diag.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Code)
	}
	return out
}

// TestReadConf reads a hand-written nftables.conf with flush ruleset,
// defines and an include of sibling files: tables in the order nft makes
// them, defines substituted, sets, maps, meters and comments read, and
// positions in the file each token came from.
func TestReadConf(t *testing.T) {
	name := "testdata/conf/nftables.conf"
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, ds := ReadText(src, name, Options{ReadFile: OSFiles})
	if len(ds) > 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	var tables []string
	for _, tb := range f.Tables {
		tables = append(tables, tb.Family+" "+tb.Name)
	}
	if got, want := strings.Join(tables, ", "), "inet mangle, ip nat, inet filter"; got != want {
		t.Errorf("tables %q, want %q (includes in name order, before the table after them)", got, want)
	}
	if len(f.Sources) != 3 {
		t.Errorf("sources of %d files, want 3", len(f.Sources))
	}
	filter := f.Table("inet", "filter")
	in := filter.Chain("input")
	if in.Hook != "input" || in.Type != "filter" || in.Priority != 0 || in.Policy != "drop" {
		t.Errorf("input chain %+v", in)
	}
	if n := len(in.Rules); n != 11 {
		t.Fatalf("%d rules in input, want 11", n)
	}
	lo := in.Rules[1]
	if lo.Comment != "loopback" || lo.Text != `iif lo accept comment "loopback"` {
		t.Errorf("rule %q comment %q", lo.Text, lo.Comment)
	}
	if got := lo.Range.String(); got != name+":34:3" {
		t.Errorf("rule at %s, want %s:34:3", got, name)
	}
	// $admin_nets is the define's set.
	adm := in.Rules[3].Stmts[0]
	if adm.Right.Kind != ExprSet || len(adm.Right.Args) != 2 || adm.Right.Args[1].Text != "198.51.100.7" {
		t.Errorf("define not substituted: %+v", adm.Right)
	}
	if adm.Right.Range.Start.Line != 9 {
		t.Errorf("a define's value is at the define (line 9), not %d", adm.Right.Range.Start.Line)
	}
	m := in.Rules[4].Stmts[2]
	if m.Kind != StmtDynset || m.Name != "meter" || m.Set != "web" || len(m.Stmts) != 1 || m.Stmts[0].Kind != StmtLimit {
		t.Errorf("meter %+v", m)
	}
	if s := filter.Set("svc"); s == nil || !s.Map || s.DataType != "verdict" || len(s.Elements) != 2 {
		t.Errorf("map svc %+v", s)
	}
	if s := filter.Set("blocked"); s == nil || !s.HasFlag("interval") || len(s.Elements) != 2 {
		t.Errorf("set blocked %+v", s)
	}
	nat := f.Table("ip", "nat").Chain("prerouting")
	if nat.Priority != -100 || len(nat.Rules) != 1 || !strings.HasSuffix(nat.Rules[0].Range.Filename, "20-nat.nft") {
		t.Errorf("nat prerouting %+v", nat)
	}
	dn := nat.Rules[0].Stmts[2]
	if to, _ := dn.Opt("to"); dn.Kind != StmtNAT || to.Value != "192.168.1.10:80" {
		t.Errorf("dnat %+v", dn)
	}
}

// TestReadBad: what cannot be read is a diagnostic of its own code at the
// right place, and the rest is read.
func TestReadBad(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		code, at  string
		rules     int // rules read in chain c of table inet t
	}{
		{"unclosed set", "table inet t {\n chain c {\n  tcp dport { 22, 80 accept\n  accept\n }\n}\n", "FW3301", "x:3:22", 1},
		{"undefined", "table inet t {\n chain c {\n  ip saddr $nope drop\n  accept\n }\n}\n", "FW3303", "x:3:12", 2},
		{"include without reader", "include \"a.nft\"\ntable inet t { chain c { accept; } }\n", "FW3302", "x:1:9", 1},
		{"edit script", "table inet t { chain c { accept; } }\ndelete rule inet t c handle 4\n", "FW3304", "x:2:1", 1},
		{"rule of no table", "add rule inet t c accept\n", "FW3306", "x:1:15", 0},
		{"missing brace", "table inet t {\n chain c {\n  accept\n", "FW3301", "x:2:8", 1},
		{"stray brace", "}\ntable inet t { chain c { drop; } }\n", "FW3301", "x:1:1", 1},
		{"binary", "table inet t {\x00}", "FW3002", "x:1:15", -1},
		{"open string", "table inet t { chain c { log prefix \"x\n accept; } }", "FW3301", "x:1:37", 2},
		{"bad priority", "table inet t { chain c { type filter hook input priority bogus; accept; } }", "FW3301", "x:1:58", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ds := ReadText([]byte(tc.src), "x", Options{})
			if len(ds) == 0 || ds[0].Code != tc.code || ds[0].Subject.String() != tc.at {
				t.Fatalf("diagnostics %v (%v), want %s at %s", ds, codes(ds), tc.code, tc.at)
			}
			if tc.rules < 0 {
				return
			}
			n := 0
			if tb := f.Table("inet", "t"); tb != nil && tb.Chain("c") != nil {
				n = len(tb.Chain("c").Rules)
			}
			if n != tc.rules {
				t.Errorf("%d rules read, want %d", n, tc.rules)
			}
		})
	}
}

// TestIncludes: a glob includes in name order, a missing file and a file
// that includes itself are reported at the include.
func TestIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("self.nft", "include \"self.nft\"\n")
	write("main.nft", "include \"self.nft\"\ninclude \"gone.nft\"\ntable ip t { chain c { accept; } }\n")
	src, _ := os.ReadFile(filepath.Join(dir, "main.nft"))
	f, ds := ReadText(src, filepath.Join(dir, "main.nft"), Options{ReadFile: OSFiles})
	if got := strings.Join(codes(ds), " "); got != "FW3302 FW3302" {
		t.Fatalf("codes %q: %v", got, ds)
	}
	if !strings.Contains(ds[0].Summary, "includes itself") || !strings.HasSuffix(ds[0].Subject.Filename, "self.nft") {
		t.Errorf("first: %v", ds[0])
	}
	if ds[1].Subject.Start.Line != 2 || !strings.Contains(ds[1].Summary, "gone.nft") {
		t.Errorf("second: %v", ds[1])
	}
	if f.Table("ip", "t") == nil {
		t.Error("the table after the includes is not read")
	}
}

// TestReadJSONBad: JSON that is not nft's is reported with its line and
// column; truncated input is said to be truncated.
func TestReadJSONBad(t *testing.T) {
	for _, tc := range []struct{ name, src, at, want string }{
		{"syntax", "{\"nftables\": [\n {\"table\": {\"family\": \"inet\" \"name\": \"t\"}}]}", "x:2:30", "invalid character"},
		{"truncated", "{\"nftables\": [{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}, {\"chain\"", "x:1:67", "truncated"},
		{"not nft", "[1, 2]", "x:1:1", "not nft JSON"},
		{"no array", "{\"other\": 1}", "x:1:1", "no \"nftables\" array"},
		{"rule of no chain", "{\"nftables\": [{\"table\": {\"family\": \"ip\", \"name\": \"t\"}}, {\"rule\": {\"family\": \"ip\", \"table\": \"t\", \"chain\": \"c\", \"expr\": []}}]}", "x:1:66", "does not declare"},
		{"deep", "{\"nftables\": [" + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "]}", "x:1:79", "nested deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := ReadJSON([]byte(tc.src), "x", Options{})
			if len(ds) == 0 || ds[0].Code != "FW3305" || ds[0].Subject.String() != tc.at || !strings.Contains(ds[0].Summary, tc.want) {
				t.Fatalf("diagnostics %v, want FW3305 at %s saying %q", ds, tc.at, tc.want)
			}
		})
	}
}

// TestHugeInput: 100 MB of garbage costs one diagnostic or stops at the
// error cap, and keeps no more than the input in memory.
func TestHugeInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		pat  string
	}{
		{"one word", "x"},
		{"braces", "{"},
		{"words", "chain ; "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := bytes.Repeat([]byte(tc.pat), (100<<20)/len(tc.pat))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, ds := ReadText(src, "huge", Options{})
			runtime.ReadMemStats(&after)
			if len(ds) == 0 || len(ds) > 101 {
				t.Errorf("%d diagnostics", len(ds))
			}
			if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
				t.Errorf("heap grew by %d MiB reading garbage", grown>>20)
			}
			_, ds = ReadJSON(src, "huge", Options{})
			if len(ds) == 0 || len(ds) > 101 {
				t.Errorf("JSON: %d diagnostics", len(ds))
			}
		})
	}
}

// TestDefineBlowup: defines made of defines (each twice the last) stop at
// a bound instead of growing without end.
func TestDefineBlowup(t *testing.T) {
	var b strings.Builder
	b.WriteString("define d0 = 1\n")
	for i := 1; i < 40; i++ {
		b.WriteString("define d" + strconv.Itoa(i) + " = { $d" + strconv.Itoa(i-1) + ", $d" + strconv.Itoa(i-1) + " }\n")
	}
	b.WriteString("table ip t { chain c { tcp dport $d39 accept; } }\n")
	_, ds := ReadText([]byte(b.String()), "x", Options{})
	if len(ds) == 0 || !strings.Contains(ds[0].Summary, "define d15 is longer than") {
		t.Fatalf("diagnostics %v", ds)
	}
}
