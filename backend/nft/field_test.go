package nft_test

import (
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// TestBuildFields: each simple field (policy/field.go) in every form its
// row allows, loaded with nft -f and with the netlink batch: nft lists the
// same ruleset both times, so the text and the expressions derived from
// the row agree with each other and with nft.
func TestBuildFields(t *testing.T) {
	testnetns.Require(t)
	files, err := filepath.Glob("testdata/fields/*.fw")
	if err != nil || len(files) == 0 {
		t.Fatalf("no field policies: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			differential(t, lower(t, loadExample(t, f)))
		})
	}
}
