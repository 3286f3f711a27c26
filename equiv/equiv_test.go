package equiv_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/equiv"
	"github.com/fwcproject/fwc/lang"
	"github.com/fwcproject/fwc/policy"
)

// program checks src as one file named name, without the lint passes.
func program(t testing.TB, name, src string) *policy.Program {
	t.Helper()
	f, ds := lang.ParseFile(name, []byte(src))
	if ds.HasErrors() {
		t.Fatalf("%s: %v", name, ds)
	}
	p, ds := check.Check([]*ast.File{f}, check.Options{NoLint: true})
	if ds.HasErrors() {
		t.Fatalf("%s: %v\n%s", name, ds, src)
	}
	return p
}

func render(r *equiv.Result) string {
	var b strings.Builder
	for _, d := range r.Diffs {
		b.WriteString(d.Family() + " " + string(d.Hook) + ": " + equiv.Words(d.Witness, d.Hook) + ": " + d.Old.Verdict + " -> " + d.New.Verdict + "\n")
	}
	return b.String()
}

func TestSmall(t *testing.T) {
	old := program(t, "old.fw", `zone wan { iface eth0 }
zone lan { iface eth1; net 10.0.0.0/8 }
from wan to self tcp dport 22 accept
from wan to self saddr 198.51.100.0/24 tcp dport 22 drop
from lan to wan accept
policy any -> any drop
`)
	new := program(t, "new.fw", `zone wan { iface eth0 }
zone lan { iface eth1; net 10.0.0.0/8 }
from wan to self saddr 198.51.100.0/24 tcp dport 22 drop
from wan to self tcp dport 22 accept
from lan to wan accept
policy any -> any drop
`)
	r := equiv.Compare(old, new, equiv.Options{})
	t.Log(render(r), r.Diffs[0].Describe())
	if r.Equivalent() {
		t.Fatal("want a difference")
	}
	r = equiv.Compare(old, old, equiv.Options{})
	if !r.Equivalent() {
		t.Fatal(render(r))
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
