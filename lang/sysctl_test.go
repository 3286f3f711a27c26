package lang

import (
	"testing"

	"github.com/fwcproject/fwc/ast"
)

// TestSysctlDecl: a sysctl declaration parses to ast.Sysctl with its key
// whole (dots, hyphens and an interface with a dot in it), the fast path
// takes it and agrees with participle, and fwc fmt prints it back in the
// canonical spacing.
func TestSysctlDecl(t *testing.T) {
	src := []byte("sysctl   net.ipv4.ip_forward=1\n" +
		"sysctl net.bridge.bridge-nf-call-iptables = 0\n" +
		"sysctl net.ipv4.conf.eth0.100.rp_filter = 2 # loose\n")
	if n := sameAsParticiple(t, src); n != 3 {
		t.Errorf("the fast path took %d of 3 sysctl declarations", n)
	}
	f, ds := ParseFile("s.fw", src)
	if len(ds) != 0 {
		t.Fatalf("parse: %v", ds)
	}
	want := []struct{ key, value string }{
		{"net.ipv4.ip_forward", "1"},
		{"net.bridge.bridge-nf-call-iptables", "0"},
		{"net.ipv4.conf.eth0.100.rp_filter", "2"},
	}
	if len(f.Decls) != len(want) {
		t.Fatalf("%d declarations, want %d", len(f.Decls), len(want))
	}
	for i, w := range want {
		s, ok := f.Decls[i].(*ast.Sysctl)
		if !ok {
			t.Fatalf("declaration %d is %T, want *ast.Sysctl", i, f.Decls[i])
		}
		l, ok := s.Value.(*ast.Lit)
		if s.Key.Name != w.key || !ok || l.Kind != ast.Number || l.Text != w.value {
			t.Errorf("declaration %d: key %q value %#v, want %s = %s", i, s.Key.Name, s.Value, w.key, w.value)
		}
	}
	const canon = "sysctl net.ipv4.ip_forward = 1\n" +
		"sysctl net.bridge.bridge-nf-call-iptables = 0\n" +
		"sysctl net.ipv4.conf.eth0.100.rp_filter = 2 # loose\n"
	if got := string(Format(f)); got != canon {
		t.Errorf("fmt:\n%s\nwant:\n%s", got, canon)
	}
}

// TestSysctlSyntaxError: a sysctl without its value is a positioned
// syntax error, on both paths.
func TestSysctlSyntaxError(t *testing.T) {
	src := []byte("sysctl net.ipv4.ip_forward =\n")
	sameAsParticiple(t, src)
	_, ds := ParseFile("s.fw", src)
	if len(ds) == 0 || ds[0].Subject.Start.Line != 1 {
		t.Fatalf("want a syntax error on line 1, got %v", ds)
	}
}
