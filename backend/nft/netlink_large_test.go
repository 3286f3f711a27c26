package nft_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/rss"
	"github.com/fwcproject/fwc/internal/sitegen"
	"github.com/fwcproject/fwc/internal/testnetns"
	"github.com/fwcproject/fwc/internal/versus"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// generated runs polgen's n-rule policy through the front end and lowers
// it. polgen writes some rules the checker rejects (an IPv6 source in a
// zone of IPv4 networks); those lines are dropped and counted.
func generated(t testing.TB, n int) *ir.Ruleset {
	t.Helper()
	lines := strings.Split(string(polgen.Policy(n, 1)), "\n")
	for try := 0; try < 2; try++ {
		f, ds := lang.ParseFile("gen.fw", []byte(strings.Join(lines, "\n")))
		if ds.HasErrors() {
			t.Fatal(ds[0])
		}
		p, ds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
		if !ds.HasErrors() {
			return lower(t, p)
		}
		dropped := 0
		for _, d := range ds {
			if d.Severity == diag.Error && d.Subject.Start.Line > 0 && lines[d.Subject.Start.Line-1] != "" {
				lines[d.Subject.Start.Line-1] = ""
				dropped++
			}
		}
		t.Logf("polgen.Policy(%d, 1): dropped %d lines the checker rejects (first: %s)", n, dropped, ds[0])
	}
	t.Fatal("generated policy does not check")
	return nil
}

// site runs internal/sitegen's n-rule policy (seed 1) through the front
// end and lowers it; sitegen's policies check without errors.
func site(t testing.TB, n int) *ir.Ruleset {
	t.Helper()
	f, ds := lang.ParseFile("gen.fw", sitegen.Policy(n, 1))
	if ds.HasErrors() {
		t.Fatal(ds[0])
	}
	p, ds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if ds.HasErrors() {
		t.Fatal(ds[0])
	}
	return lower(t, p)
}

// shaped returns the ruleset of a benchmark shape: "distinct" (n rules of
// one address and one port), "generated" (polgen's policy) or "sitegen".
func shaped(t testing.TB, shape string, n int) *ir.Ruleset {
	t.Helper()
	switch shape {
	case "distinct":
		return distinctRules(n)
	case "sitegen":
		return site(t, n)
	}
	return generated(t, n)
}

// TestBuildGenerated10k is the differential test on a large generated
// policy: 10,000 policy rules, both loads listed and compared.
func TestBuildGenerated10k(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	if testing.Short() {
		t.Skip("large")
	}
	rs := generated(t, 10000)
	t.Logf("10000 policy rules -> %d nft rules", nft.RuleCount(rs))
	differential(t, rs)
}

// TestBuildSitegen2k is the differential test on internal/sitegen's
// policy: large named sets, concatenations, NAT chains, meters and limits,
// IPv6, user chains; both loads listed and compared.
func TestBuildSitegen2k(t *testing.T) {
	testnetns.Require(t)
	if testing.Short() {
		t.Skip("large")
	}
	rs := site(t, 2000)
	t.Logf("2000 policy rules -> %d nft rules", nft.RuleCount(rs))
	differential(t, rs)
}

// TestBuildGenerated50k commits a 50,000-rule generated policy and checks
// that every rule arrived.
func TestBuildGenerated50k(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	if testing.Short() {
		t.Skip("large")
	}
	rs := generated(t, 50000)
	ns := testnetns.New(t)
	commitBuild(t, ns, rs)
	if got, want := countDumped(t, ns), nft.RuleCount(rs); got != want {
		t.Fatalf("%d rules in the kernel, want %d", got, want)
	}
}

// distinctRules is a ruleset of n input rules that Merge cannot join: each
// differs from the next in two matches (source address and a port range,
// which no lookup along several fields holds).
func distinctRules(n int) *ir.Ruleset {
	t := &ir.Table{Name: "filter"}
	c := &ir.Chain{Table: t, Name: "input", Hook: policy.Input, Type: ir.TypeFilter, Policy: policy.Accept}
	t.Chains = []*ir.Chain{c}
	for i := 0; i < n; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		c.Rules = append(c.Rules, &ir.Rule{
			Family: ir.IPv4,
			Matches: []policy.Cond{
				&policy.AddrCond{Dir: policy.Src, Items: []policy.AddrItem{{Prefix: netip.PrefixFrom(a, 32)}}},
				&policy.ProtoCond{Protos: []policy.Proto{policy.ProtoTCP}},
				&policy.PortCond{Dir: policy.Dst, Ranges: []policy.PortRange{{Lo: uint16(1 + i%60000), Hi: uint16(2 + i%60000)}}},
			},
			Actions: []policy.Action{&policy.Verdict{Kind: policy.Accept}},
			Pos:     []ir.Pos{{File: "big.fw", Line: i + 1}},
		})
	}
	return &ir.Ruleset{Tables: []*ir.Table{t}}
}

// TestDistinctRules commits 30,000 rules that Merge cannot join in one
// batch and counts them in the kernel. 30,000 is past every size the
// commit path depends on (the forced send and receive buffers, a send far
// above net.core.wmem_max); reading them back costs the square of their
// number (see countDumped), so the 300,000-rule case is
// BenchmarkCommitDistinct.
func TestDistinctRules(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	if testing.Short() {
		t.Skip("large")
	}
	const n = 30000
	rs := distinctRules(n)
	if got := nft.RuleCount(rs); got != n {
		t.Fatalf("Merge joined rules: %d left of %d", got, n)
	}
	ns := testnetns.New(t)
	start := time.Now()
	commitBuild(t, ns, rs)
	t.Logf("Build and Commit of %d rules: %v", n, time.Since(start))
	if got := countDumped(t, ns); got != n {
		t.Fatalf("%d rules in the kernel, want %d", got, n)
	}
}

// countDumped counts the rules of table inet fwc in namespace ns with a
// raw GETRULE dump, one message per rule, without decoding them: a
// google/nftables GetRules dump of 300,000 rules does not finish, and
// `nft list` of them costs minutes of CPU and a GiB of memory.
func countDumped(t testing.TB, ns string) int {
	t.Helper()
	f, err := os.Open(testnetns.Path(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	table, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: unix.NFTA_RULE_TABLE, Data: append([]byte(nft.Table), 0)}})
	if err != nil {
		t.Fatal(err)
	}
	req := netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETRULE),
			Flags: netlink.Request | netlink.Dump,
		},
		// nfgenmsg: family inet, version 0, resource id 0.
		Data: append([]byte{unix.NFPROTO_INET, unix.NFNETLINK_V0, 0, 0}, table...),
	}
	req, err = c.Send(req)
	if err != nil {
		t.Fatal(err)
	}
	// Read the dump with the largest buffer the kernel fills (32 KiB): it
	// resumes each part by walking the chain from its first rule, so the
	// dump costs the square of the rules over the rules per part, and
	// netlink.Conn reads with a page-sized buffer.
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	n, done, buf := 0, false, make([]byte, 32<<10)
	for !done {
		var rerr error
		var got int
		if err := rc.Read(func(fd uintptr) bool {
			got, _, rerr = unix.Recvfrom(int(fd), buf, 0)
			return rerr != unix.EAGAIN
		}); err != nil {
			t.Fatal(err)
		}
		if rerr != nil {
			t.Fatalf("GETRULE dump: %v", rerr)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:got])
		if err != nil {
			t.Fatalf("GETRULE dump: %v", err)
		}
		for _, m := range msgs {
			switch {
			case m.Header.Seq != req.Header.Sequence:
			case m.Header.Type == unix.NLMSG_DONE:
				done = true
			case m.Header.Type == unix.NLMSG_ERROR:
				t.Fatalf("GETRULE dump: error %d", int32(binary.NativeEndian.Uint32(m.Data)))
			case m.Header.Type&0xff == unix.NFT_MSG_NEWRULE:
				n++
			}
		}
	}
	return n
}

// TestLargeSetElements loads a named set of 100,000 IPv4 addresses (sent
// in some forty element messages) and reads every element back. The kernel's element dump, like its rule dump,
// walks the set from the start for each part; the 1,000,000-element case
// is BenchmarkCommitElements.
func TestLargeSetElements(t *testing.T) {
	t.Parallel()
	testnetns.Require(t)
	if testing.Short() {
		t.Skip("large")
	}
	const n = 100000
	rs := elementsRuleset(n)
	ns := testnetns.New(t)
	commitBuild(t, ns, rs)
	bc, err := batch.Open(batch.WithNetNSPath(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	q, err := bc.Query()
	if err != nil {
		t.Fatal(err)
	}
	set, err := q.GetSetByName(&nftables.Table{Name: nft.Table, Family: nftables.TableFamilyINet}, "big")
	if err != nil {
		t.Fatal(err)
	}
	elems, err := q.GetSetElements(set)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[[4]byte]bool, n)
	for _, e := range elems {
		if len(e.Key) == 4 {
			seen[[4]byte(e.Key)] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct elements read back (%d listed), want %d", len(seen), len(elems), n)
	}
}

// elementsRuleset is a named set of n IPv4 addresses, sized n, and one
// rule that looks it up.
func elementsRuleset(n int) *ir.Ruleset {
	s := &ir.Set{Name: "big", Type: []policy.SetType{policy.IPv4Addr}, Family: ir.IPv4, Size: uint32(n)}
	for i := 0; i < n; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		s.Elements = append(s.Elements, policy.SetElem{Parts: []policy.SetValue{{Addr: policy.AddrItem{Prefix: netip.PrefixFrom(a, 32)}}}})
	}
	tbl := &ir.Table{Name: "filter"}
	c := &ir.Chain{Table: tbl, Name: "input", Hook: policy.Input, Type: ir.TypeFilter, Policy: policy.Accept}
	c.Rules = []*ir.Rule{{Family: ir.IPv4, Matches: []policy.Cond{&policy.AddrCond{Dir: policy.Src, Set: &policy.Set{Name: s.Name, Type: s.Type, Family: policy.IPv4}}}, Actions: []policy.Action{&policy.Verdict{Kind: policy.Drop}}}}
	tbl.Chains = []*ir.Chain{c}
	return &ir.Ruleset{Tables: []*ir.Table{tbl}, Sets: []*ir.Set{s}}
}

// BenchmarkCommitDistinct commits 300,000 rules Merge cannot join, the
// scale TestDistinctRules stands for, into a fresh namespace each time.
func BenchmarkCommitDistinct(b *testing.B) {
	testnetns.Require(b)
	rs := distinctRules(300000)
	for b.Loop() {
		commitBuild(b, testnetns.New(b), rs)
	}
}

// BenchmarkCommitElements commits a set of 1,000,000 addresses, the scale
// TestLargeSetElements stands for, into a fresh namespace each time.
func BenchmarkCommitElements(b *testing.B) {
	testnetns.Require(b)
	rs := elementsRuleset(1000000)
	for b.Loop() {
		commitBuild(b, testnetns.New(b), rs)
	}
}

// BenchmarkApply compares loading the same policy with Messages and
// batch.CommitMessages (encoding and the kernel's work, in process) against
// `nft -f` of Text's script (including starting nft). Each iteration runs
// both, one after the other, each in its own namespace and from the same
// starting state, so that both see the same machine: "fresh" (no fwc
// table: deleted, timer stopped, before every iteration) and "replace" (the
// same ruleset already loaded, so the batch also deletes the old table).
// fwc-s/op and nft-s/op are their times, ratio is ours over nft's (ns/op
// is their sum).
//
// Memory: nft-maxrss-KiB is nft's peak RSS. For Messages+Commit, B/op and
// allocs/op are the Go side; fwc-rss-KiB is the peak RSS of the test
// process during the apply above its RSS just before (the kernel's peak
// RSS counter is reset first), and peak-rss-KiB the process's whole peak,
// which also holds the checked policy and its IR, as `fwc apply` does.
//
// Three shapes: "generated" is polgen's policy (many rules carry an
// anonymous set, and the kernel's cost of resolving a set referenced by a
// rule in the same transaction grows with the number of sets pending, for
// nft and Messages alike); "distinct" is n rules of one address and one
// port each; "sitegen" is internal/sitegen's policy (unique hosts, large
// named sets, NAT, IPv6).
func BenchmarkApply(b *testing.B) {
	for _, c := range []struct {
		shape string
		n     int
	}{{"distinct", 10000}, {"distinct", 50000}, {"generated", 10000}, {"generated", 50000}, {"sitegen", 10000}, {"sitegen", 50000}} {
		n := c.n
		rs := shaped(b, c.shape, n)
		text, _ := nft.Text(rs)
		file := filepath.Join(b.TempDir(), "ruleset.nft")
		if err := os.WriteFile(file, text, 0o644); err != nil {
			b.Fatal(err)
		}
		for _, start := range []string{"fresh", "replace"} {
			b.Run(fmt.Sprintf("%s/rules=%d/%s", c.shape, n, start), func(b *testing.B) {
				ns, nsNft := testnetns.New(b), testnetns.New(b)
				c, err := batch.Open(batch.WithNetNSPath(ns))
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				if start == "replace" {
					commitBuild(b, ns, rs)
					commitBuild(b, nsNft, rs)
				}
				var pair versus.Pair
				var peak, hwm, nftPeak int64
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					if start == "fresh" {
						testnetns.Flush(b, ns, nsNft)
					}
					before := resetPeakRSS(b)
					b.StartTimer()
					pair.Fwc(func() {
						msgs, err := nft.Messages(rs)
						if err != nil {
							b.Fatal(err)
						}
						if out, err := c.CommitMessages(0, msgs); out != batch.Applied {
							b.Fatal(out, err)
						}
					})
					b.StopTimer()
					h := procStatus(b, "VmHWM")
					peak, hwm = max(peak, h-before), max(hwm, h)
					b.StartTimer()
					pair.Nft(func() { nftPeak = max(nftPeak, testnetns.LoadNft(b, nsNft, file)) })
				}
				pair.Report(b)
				b.ReportMetric(float64(peak), "fwc-rss-KiB")
				b.ReportMetric(float64(hwm), "peak-rss-KiB")
				b.ReportMetric(float64(nftPeak), "nft-maxrss-KiB")
			})
		}
	}
}

// resetPeakRSS is rss.ResetPeak for a benchmark.
func resetPeakRSS(b *testing.B) int64 {
	b.Helper()
	n, err := rss.ResetPeak()
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// procStatus is rss.Status for a benchmark.
func procStatus(b *testing.B, field string) int64 {
	b.Helper()
	n, err := rss.Status(field)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkBuild measures the Go side alone: encoding the messages
// (Messages), no kernel, for the shapes of BenchmarkApply.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		for _, shape := range []string{"distinct", "generated", "sitegen"} {
			rs := shaped(b, shape, n)
			b.Run(fmt.Sprintf("%s/rules=%d", shape, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := nft.Messages(rs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
