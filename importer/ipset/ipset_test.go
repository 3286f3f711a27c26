package ipset

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/internal/fuzzutil"
	"github.com/fwcproject/fwc/internal/testnetns"
)

func files(t *testing.T) []string {
	t.Helper()
	fs, _ := filepath.Glob("testdata/*.ipset")
	shared, _ := filepath.Glob("../../../shared/corpus/rulesets/ipset/*.ipset")
	fs = append(fs, shared...)
	if len(fs) == 0 {
		t.Fatal("no ipset files")
	}
	return fs
}

// TestCorpusReads: every ipset file reads without an error and every
// create and add line is in the model.
func TestCorpusReads(t *testing.T) {
	re := regexp.MustCompile(`(?m)^(create|add) `)
	for _, file := range files(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, ds := ReadBytes(src, filepath.Base(file), Options{})
		checkPositions(t, src, f, ds)
		if len(ds) != 0 {
			t.Errorf("%s: %v", file, ds)
		}
		n := len(f.Sets)
		for _, s := range f.Sets {
			n += len(s.Elements)
		}
		if want := len(re.FindAll(src, -1)); n != want {
			t.Errorf("%s: %d sets and elements read, file has %d lines", file, n, want)
		}
	}
}

func TestModel(t *testing.T) {
	src, err := os.ReadFile("testdata/kernel-made.ipset")
	if err != nil {
		t.Fatal(err)
	}
	f, ds := ReadBytes(src, "kernel-made.ipset", Options{})
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	s := f.Set("v4hosts")
	if s.Type != "hash:ip" || s.Option("family").Value != "inet" || s.Option("maxelem").Value != "65536" ||
		s.Option("counters") == nil || s.Option("comment") == nil || s.Option("comment").HasValue {
		t.Errorf("v4hosts create: %+v", s)
	}
	e := s.Elements[0]
	if e.Text != "192.0.2.1" || e.Option("comment").Value != "ssh: bad guy" || !e.Option("comment").Quoted || e.Option("packets").Value != "3" {
		t.Errorf("v4hosts element: %+v", e)
	}
	if got := e.Range; got.Start.Line != 2 || got.Start.Column != 13 {
		t.Errorf("element position %v", got)
	}
	if f.Set("v6nets").Elements[0].Option("nomatch") == nil {
		t.Errorf("nomatch lost")
	}
	if ls := f.Set("both"); ls.Type != "list:set" || ls.Option("size").Value != "8" || len(ls.Elements) != 2 {
		t.Errorf("list:set %+v", ls)
	}
	if np := f.Set("netport"); np.Option("skbinfo") == nil || np.Elements[0].Option("skbmark").Value != "0x1/0xff" {
		t.Errorf("skbinfo %+v", np)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown type", "create a hash:addr\n", []string{CodeBadCreate}},
		{"short create", "create a\n", []string{CodeBadCreate}},
		{"undeclared", "add nope 1.2.3.4\n", []string{CodeUndeclaredSet}},
		{"twice", "create a hash:ip\ncreate a hash:ip\n", []string{CodeSetTwice}},
		{"unknown option kept", "create a hash:ip frob 3\nadd a 1.2.3.4 wibble\n", []string{CodeUnknownOption, CodeUnknownOption}},
		{"bad number", "create a hash:ip hashsize lots\n", []string{CodeBadValue}},
		{"bad family", "create a hash:ip family ipv4\n", []string{CodeBadValue}},
		{"missing value", "create a hash:ip maxelem\n", []string{CodeBadValue}},
		{"open quote", "create a hash:ip comment\nadd a 1.2.3.4 comment \"x\n", []string{CodeBadValue}},
		{"unsupported", "create a hash:ip\ndel a 1.2.3.4\n", []string{CodeUnsupported}},
		{"garbage", "hello\n", []string{CodeNotUnderstood}},
		{"binary", "\x7fELF\x02\x01\n", []string{"FW3002"}},
		{"long", "create a hash:ip comment\nadd a 1.2.3.4 comment " + strings.Repeat("y", 70<<10) + "\n", []string{"FW3001"}},
		{"truncated", "create a hash:ip\nadd a", []string{CodeBadValue}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ds := ReadBytes([]byte(tc.src), "in.ipset", Options{})
			checkPositions(t, []byte(tc.src), f, ds)
			var got []string
			for _, d := range ds {
				got = append(got, d.Code)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("codes %v, want %v\n%v", got, tc.want, ds)
			}
		})
	}
	// Unknown options are kept, with their values.
	f, _ := ReadBytes([]byte("create a hash:ip frob 3\n"), "x", Options{})
	if o := f.Set("a").Option("frob"); o == nil || o.Value != "3" {
		t.Errorf("unknown option not kept: %+v", o)
	}
}

func TestTooManyErrors(t *testing.T) {
	_, ds := ReadBytes([]byte(strings.Repeat("nonsense\n", 5000)), "x", Options{})
	if n := len(ds); n != 101 || ds[n-1].Code != "FW3003" {
		t.Fatalf("%d diagnostics", n)
	}
}

var (
	initvalRE = regexp.MustCompile(`initval 0x[0-9a-f]+`)
	timeoutRE = regexp.MustCompile(`timeout [0-9]+ packets`)
)

// TestRoundTripKernel: the kernel-made file and the model printed back load
// with ipset restore in two namespaces and ipset save prints the same sets
// (but for the random initval and the element timeouts, which count down).
func TestRoundTripKernel(t *testing.T) {
	testnetns.RequireTools(t, "ipset")
	src, err := os.ReadFile("testdata/kernel-made.ipset")
	if err != nil {
		t.Fatal(err)
	}
	f, ds := ReadBytes(src, "kernel-made.ipset", Options{})
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	var printed bytes.Buffer
	if err := Print(&printed, f); err != nil {
		t.Fatal(err)
	}
	save := func(in []byte) string {
		ns := testnetns.New(t)
		if out, err := testnetns.Feed(ns, in, "ipset", "restore"); err != nil {
			t.Fatalf("ipset restore: %v\n%s\n%s", err, out, in)
		}
		out := testnetns.Run(t, ns, "ipset", "save")
		// list:set members hold references; flush the lists first so the
		// namespace can go with its sets.
		testnetns.Run(t, ns, "ipset", "flush")
		testnetns.Run(t, ns, "ipset", "destroy")
		return out
	}
	norm := func(s string) string {
		return timeoutRE.ReplaceAllString(initvalRE.ReplaceAllString(s, "initval X"), "timeout X packets")
	}
	want, got := norm(save(src)), norm(save(printed.Bytes()))
	if want != got {
		t.Errorf("saves differ\n--- original\n%s\n--- printed model\n%s", want, got)
	}
}

func FuzzIpset(f *testing.F) {
	fuzzutil.AddFiles(f, "testdata/*.ipset")
	f.Add([]byte("create a hash:ip comment\nadd a 1.2.3.4 comment \"x y\"\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		stop := fuzzutil.Deadline(10e9, "ipset.Read", src)
		defer stop()
		fl, ds := ReadBytes(src, "fuzz.ipset", Options{MaxLine: 4096})
		checkPositions(t, src, fl, ds)
		var out bytes.Buffer
		if err := Print(&out, fl); err != nil {
			t.Fatal(err)
		}
	})
}

func checkPositions(t testing.TB, src []byte, f *File, ds diag.Diagnostics) {
	t.Helper()
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	check := func(what string, r diag.Range) {
		if r.IsZero() {
			return
		}
		for _, p := range []diag.Pos{r.Start, r.End} {
			if p.Line < 1 || p.Line > len(starts) || p.Column < 1 || p.Byte < 0 || p.Byte > len(src) ||
				starts[p.Line-1]+p.Column-1 != p.Byte {
				t.Fatalf("%s: position %+v is not inside the input", what, p)
			}
		}
	}
	for _, d := range ds {
		check(d.Code, d.Subject)
	}
	for _, c := range f.Comments {
		check("comment", c.Range)
	}
	opts := func(os []*Option) {
		for _, o := range os {
			check("option", o.Range)
			check("value", o.ValueRange)
		}
	}
	for _, s := range f.Sets {
		check("set", s.Range)
		check("name", s.NameRange)
		check("type", s.TypeRange)
		opts(s.Options)
		for _, e := range s.Elements {
			check("element", e.Range)
			check("line", e.Line)
			opts(e.Options)
		}
	}
}

// zeros is an endless-looking reader of n bytes of "\x00\n" lines.
type zeros struct{ n int }

func (z *zeros) Read(b []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(len(b), z.n)
	for i := range k {
		b[i] = "\x00\n"[i%2]
	}
	z.n -= k
	return k, nil
}

// TestHugeBinaryStops: 100 MB of binary lines cost 100 errors and a stop,
// not one diagnostic per line.
func TestHugeBinaryStops(t *testing.T) {
	z := &zeros{n: 100 << 20}
	_, ds := Read(z, "huge.ipset", Options{})
	if n := len(ds); n != 101 || ds[n-1].Code != "FW3003" {
		t.Fatalf("%d diagnostics, want 100 errors then FW3003", n)
	}
	if z.n < 90<<20 {
		t.Errorf("read %d bytes after the error cap", 100<<20-z.n)
	}
}
