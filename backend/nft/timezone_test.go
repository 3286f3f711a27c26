package nft_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/internal/testnetns"
)

// timePolicy has a time condition of every kind, with windows close to
// midnight UTC (where a shift by the loading host's zone changes the day).
const timePolicy = `table filter {
	chain input policy accept {
		tcp dport 1 hour "09:00"-"17:00" accept
		tcp dport 2 hour != "00:30"-"01:15:30" drop
		tcp dport 3 day mon, sun hour "23:00"-"23:59:59" accept
		tcp dport 4 day != sat drop
		tcp dport 5 date "2024-03-31T23:00:00"-"2024-04-01T01:00:00" accept
		tcp dport 6 date != "2017-12-24"-"2017-12-27" drop
	}
}
`

// TestTimeZoneIndependent loads the nft text of timePolicy with nft -f
// under several TZ values (POSIX zone strings, which need no zone
// database) and the netlink batch, and compares what the kernel holds:
// nft converts "HH:MM" and dates from the TZ of the process that loads
// them, so the text must carry values that nft takes as they are, and
// policy times mean UTC wherever the file is loaded.
func TestTimeZoneIndependent(t *testing.T) {
	testnetns.Require(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "time.fw")
	if err := os.WriteFile(src, []byte(timePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := lower(t, loadExample(t, src))
	text, ds := nft.Text(rs)
	if ds.HasErrors() {
		t.Fatalf("Text: %v", ds)
	}
	file := filepath.Join(dir, "ruleset.nft")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	// The listing is printed under TZ=UTC (nftIn): it shows the stored
	// values as UTC times.
	want := loadBuild(t, rs)
	for _, w := range []string{
		`meta hour "09:00"-"17:00"`, `meta hour != "00:30"-"01:15:30"`,
		`meta day { "Sunday", "Monday" } meta hour "23:00"-"23:59:59"`, `meta day != "Saturday"`,
		`meta time "2024-03-31 23:00:00"-"2024-04-01 01:00:00"`, `meta time != "2017-12-24 00:00:00"-"2017-12-27 00:00:00"`,
	} {
		if !strings.Contains(want, w) {
			t.Errorf("the netlink batch does not hold the policy's UTC times: no %q in\n%s", w, want)
		}
	}
	for _, tz := range []string{"UTC0", "CST-8", "EST+5", "NPT-5:45"} {
		ns := testnetns.New(t)
		if out, err := testnetns.Feed(ns, nil, "env", "TZ="+tz, "nft", "-f", file); err != nil {
			t.Fatalf("TZ=%s nft -f: %v\n%s", tz, err, out)
		}
		if got := listing(t, ns); got != want {
			t.Errorf("loaded with TZ=%s, the kernel holds other times than the netlink batch:\n%s", tz, lineDiff(got, want))
		}
	}
}
