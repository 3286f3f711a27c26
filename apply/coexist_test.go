package apply

import (
	"slices"
	"strings"
	"testing"

	"github.com/fwcproject/fwc/internal/testnetns"
)

// cutsDocker drops every forwarded packet not from lan (by a rule:
// the log makes the zone policy one); docker's containers lose their
// network.
const cutsDocker = `zone lan {
	iface eth1
	net 192.168.1.0/24
}
policy lan -> any accept
policy any -> any log prefix "fwd: " drop
`

// keepsDocker lets the bridge's traffic through both ways.
const keepsDocker = `zone docker {
	iface docker0
}
policy docker -> any accept
policy any -> docker accept
` + cutsDocker

// TestCoexistDocker loads docker's chains into a namespace with each
// variant of iptables, and checks that ReadForeign finds them (docker's
// chains and its bridge) and that Coexist warns, naming the chains and
// the rule that drops, for a policy that cuts the containers off, and not
// for one that lets the bridge through.
func TestCoexistDocker(t *testing.T) {
	for _, v := range []IptablesVariant{"legacy", "nft"} {
		t.Run(string(v), func(t *testing.T) {
			testnetns.RequireTools(t, v.tool(4, "restore"))
			ns := nsWithLinks(t)
			h := openHost(t, ns)
			fs, err := ReadForeign(h)
			if err != nil || len(fs) != 0 {
				t.Fatalf("before docker's rules: %v, %v", fs, err)
			}
			if out, err := testnetns.Feed(ns, []byte(dockerRules), v.tool(4, "restore")); err != nil {
				t.Fatalf("load docker's rules: %v\n%s", err, out)
			}
			fs, err = ReadForeign(h)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].Owner != "docker" || !slices.Equal(fs[0].Ifaces, []string{"docker0"}) ||
				!slices.Equal(fs[0].Chains, []string{"filter DOCKER", "filter DOCKER-ISOLATION-STAGE-1", "filter DOCKER-USER", "nat DOCKER"}) {
				t.Fatalf("ReadForeign = %+v", fs)
			}
			ds := Coexist(compileSrc(t, cutsDocker).Ruleset, fs)
			if len(ds) != 1 {
				t.Fatalf("want one warning for the policy that cuts docker, got %v", ds)
			}
			d := ds[0]
			if d.Code != "FW4001" || !strings.Contains(d.Summary, "a new connection from docker0 out to another interface is dropped by the rule at policy.fw:6") ||
				!strings.Contains(d.Detail, "filter DOCKER-USER") || d.Subject.Start.Line != 6 {
				t.Fatalf("warning: %+v", d)
			}
			// A chain policy has no source position; the warning names it.
			policyDrop := "table filter {\n\tchain forward policy drop {\n\t\tiif eth1 accept\n\t}\n}\n"
			if ds := Coexist(compileSrc(t, policyDrop).Ruleset, fs); len(ds) != 1 || !strings.HasSuffix(ds[0].Summary, "from docker0 out to another interface is dropped by the policy drop of chain filter forward") {
				t.Fatalf("a forward chain that drops by policy: %v", ds)
			}
			if ds := Coexist(compileSrc(t, keepsDocker).Ruleset, fs); len(ds) != 0 {
				t.Fatalf("a policy that lets docker0 through is warned about: %v", ds)
			}
		})
	}
}

// TestCoexistKube: kube-proxy's rules name no interface; the question is
// then what the policy does with forwarded traffic of an interface it
// does not name.
func TestCoexistKube(t *testing.T) {
	byOwner := map[string]*Foreign{}
	foreignOf(`*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
COMMIT
`, byOwner)
	k := byOwner["kube-proxy"]
	if k == nil || !slices.Equal(k.Chains, []string{"filter KUBE-FORWARD"}) || len(k.Ifaces) != 0 {
		t.Fatalf("foreignOf = %+v", byOwner)
	}
	if ds := Coexist(compileSrc(t, cutsDocker).Ruleset, []Foreign{*k}); len(ds) != 1 || !strings.Contains(ds[0].Summary, "from "+probeIface) {
		t.Fatalf("Coexist = %v", ds)
	}
	open := "zone lan {\n\tiface eth1\n}\npolicy lan -> any accept\n"
	if ds := Coexist(compileSrc(t, open).Ruleset, []Foreign{*k}); len(ds) != 0 {
		t.Fatalf("a policy that forwards by default is warned about: %v", ds)
	}
}
