package convert

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fwcproject/fwc/importer/nft"
	"github.com/fwcproject/fwc/internal/testnetns"
)

func importNft(t *testing.T, file string, json bool) ([]byte, *nft.File) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f *nft.File
	if json {
		f, _ = nft.ReadJSON(src, file, nft.Options{})
	} else {
		f, _ = nft.ReadText(src, file, nft.Options{ReadFile: nft.OSFiles})
	}
	out, ds := Convert(Input{Nft: []*nft.File{f}}, Options{})
	if ds.HasErrors() {
		t.Fatalf("import %s: %v", file, ds)
	}
	return out, f
}

// TestNftSameVerdicts: real packets meet the same verdicts in a namespace
// that loaded an nft file with nft -f and in one that loaded fwc's
// translation of its import.
func TestNftSameVerdicts(t *testing.T) {
	testnetns.RequireTools(t, "nft")
	for _, file := range []string{"testdata/nft/constructs.nft", "../nft/testdata/conf/nftables.conf"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, _ := importNft(t, file, false)
			src, _ := os.ReadFile(file)
			twin(t, func(ns string) {
				abs, _ := filepath.Abs(file)
				cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", abs)
				cmd.Dir = filepath.Dir(abs)
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("nft -f %s: %v: %s", file, err, b)
				}
			}, out, string(src))
		})
	}
}
