package check

import (
	"fmt"
	"sort"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
)

const codeSysctl = "FW0125"

func init() {
	diag.Register(diag.Doc{Code: codeSysctl, Title: "Invalid sysctl", Severity: diag.Error, Doc: `
A sysctl declaration names a kernel setting the firewall depends on, which
fwc apply writes in the target network namespace. fwc knows these keys:
net.ipv4.ip_forward, net.ipv6.conf.all.forwarding and
net.ipv6.conf.default.forwarding (0 or 1), net.netfilter.nf_conntrack_max,
the net.netfilter.nf_conntrack_tcp_timeout_* and nf_conntrack_udp_timeout*
timeouts (seconds, at least 1), net.ipv4.conf.IFACE.rp_filter (IFACE an
interface, "all" or "default"; 0 off, 1 strict, 2 loose) and
net.bridge.bridge-nf-call-iptables / bridge-nf-call-ip6tables (0 or 1).
The value is a whole number in the key's range; a key is declared once.

    sysctl net.ipv4.ip_fowrard = 1   # FW0125: unknown sysctl; did you mean "net.ipv4.ip_forward"?
    sysctl net.ipv4.ip_forward = 2   # FW0125: must be from 0 to 1`})
}

// checkSysctl types a sysctl declaration; nil when it is not valid.
func (c *checker) checkSysctl(d *ast.Sysctl) *policy.Sysctl {
	key := d.Key.Name
	rng, ok := policy.SysctlKeys[key]
	if !ok {
		if _, ok = policy.RPFilterIface(key); ok {
			rng = policy.RPFilterRange
		}
	}
	if !ok {
		keys := make([]string, 0, len(policy.SysctlKeys)+3)
		for k := range policy.SysctlKeys {
			keys = append(keys, k)
		}
		keys = append(keys, "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter")
		sort.Strings(keys)
		dg := c.errorf(codeSysctl, d.Key, "unknown sysctl %q: fwc knows the settings a firewall depends on (see fwc explain %s)", key, codeSysctl)
		if s := suggest(key, keys); s != "" {
			dg.Summary += fmt.Sprintf("; did you mean %q?", s)
		}
		return nil
	}
	if _, ok := lit(d.Value, ast.Number); !ok {
		c.typeErr(d.Value, "a whole number")
		return nil
	}
	n, ok := c.number(d.Value, rng.Min, rng.Max, key)
	if !ok {
		return nil
	}
	return &policy.Sysctl{Key: key, Value: n, Decl: d}
}
