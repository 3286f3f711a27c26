package nft

import (
	"fmt"
	"os"
	"testing"
)

func TestDumpDebug(t *testing.T) {
	name := os.Getenv("NFTDUMP")
	if name == "" {
		t.Skip()
	}
	src, _ := os.ReadFile(name)
	f, ds := ReadText(src, name, Options{ReadFile: OSFiles})
	for _, d := range ds {
		fmt.Println(d.Subject, d.Summary)
	}
	for _, tb := range f.Tables {
		fmt.Println("table", tb.Family, tb.Name, len(tb.Sets), "sets")
		for _, c := range tb.Chains {
			fmt.Println(" chain", c.Name, c.Type, c.Hook, c.Priority, c.Policy, len(c.Rules))
			for _, r := range c.Rules {
				fmt.Printf("   %d stmts bad=%v %q\n", len(r.Stmts), r.Bad, r.Text)
			}
		}
	}
}
