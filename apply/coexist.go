package apply

import (
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/google/nftables"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/ir"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
	"github.com/fwcproject/fwc/sim"
)

func init() {
	diag.Register(diag.Doc{
		Code:     "FW4001",
		Title:    "the policy drops traffic that docker or kube-proxy forwards",
		Severity: diag.Warning,
		Doc: `fwc plan and apply found chains of docker (DOCKER, DOCKER-USER, ...) or
kube-proxy (KUBE-FORWARD, KUBE-SERVICES, ...) in the namespace's iptables,
and the policy drops the traffic those programs forward: a new connection
from a container's bridge (docker0, br-..., or the interfaces their rules
name) out to another interface, or in from elsewhere to it, is dropped by
fwc's forward chain. This is the classic clash of a host firewall with
docker: the containers lose their network, or their published ports, as
soon as the firewall loads.

A drop is final. With the nft backend, fwc's table drops the packet
whatever iptables' chains say; with --backend iptables, fwc's chain is
jumped to first from FORWARD, so docker's rules never see what it drops.
Only what fwc accepts or leaves undecided reaches the others' rules (with
--backend iptables, a packet fwc's chain does not decide goes on to them).

Let the bridges' traffic through in the policy, for instance:

    zone docker {
        iface docker0
    }
    policy docker -> any accept
    policy any -> docker accept

or, for kube-proxy, accept forwarded traffic of the pod network's
interfaces. The warning names the chains found and the rule (or chain
policy) that drops the traffic.`,
	})
}

// Foreign is one program's chains found in a namespace's iptables.
type Foreign struct {
	// Owner is "docker" or "kube-proxy".
	Owner string
	// Chains are its chains, as "TABLE NAME", sorted.
	Chains []string
	// Ifaces are the interfaces its rules name (-i, -o), a '+' wildcard
	// made concrete ("cali+" is "cali0").
	Ifaces []string
}

// foreignOwner names the program a chain belongs to, or "".
func foreignOwner(chain string) string {
	switch {
	case strings.HasPrefix(chain, "DOCKER"):
		return "docker"
	case strings.HasPrefix(chain, "KUBE-"):
		return "kube-proxy"
	}
	return ""
}

// ReadForeign lists the chains of docker and kube-proxy in h's namespace,
// in either variant of iptables. It runs iptables-save only when the
// kernel shows such chains (iptables-nft) or legacy tables at all, so
// that a host without them costs one netlink dump and one file read.
func ReadForeign(h *Host) ([]Foreign, error) {
	var saves []string
	c, err := h.nft.Query()
	if err != nil {
		return nil, err
	}
	chains, err := c.ListChains()
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(chains, func(ch *nftables.Chain) bool {
		return (ch.Table.Family == nftables.TableFamilyIPv4 || ch.Table.Family == nftables.TableFamilyIPv6) && foreignOwner(ch.Name) != ""
	}) {
		saves = append(saves, "iptables-nft-save", "ip6tables-nft-save")
	}
	err = inNetNS(h.ns, false, func() error {
		for _, f := range []struct{ proc, tool string }{
			{"ip_tables_names", "iptables-legacy-save"}, {"ip6_tables_names", "ip6tables-legacy-save"},
		} {
			if b, err := os.ReadFile("/proc/thread-self/net/" + f.proc); err == nil && len(b) > 0 {
				saves = append(saves, f.tool)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	byOwner := map[string]*Foreign{}
	for _, tool := range saves {
		if _, err := systemTool(tool); err != nil {
			continue // that variant is not installed: nothing of it to find
		}
		out, err := h.tool(nil, tool)
		if err != nil {
			return nil, err
		}
		foreignOf(string(out), byOwner)
	}
	var fs []Foreign
	for _, o := range []string{"docker", "kube-proxy"} {
		if f := byOwner[o]; f != nil {
			slices.Sort(f.Chains)
			slices.Sort(f.Ifaces)
			fs = append(fs, *f)
		}
	}
	return fs, nil
}

// foreignOf adds the docker and kube-proxy chains of iptables-save text,
// and the interfaces their rules (and the rules that jump to them) name,
// to byOwner.
func foreignOf(text string, byOwner map[string]*Foreign) {
	var table string
	get := func(o string) *Foreign {
		f := byOwner[o]
		if f == nil {
			f = &Foreign{Owner: o}
			byOwner[o] = f
		}
		return f
	}
	for l := range strings.Lines(text) {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "*"):
			table = l[1:]
		case strings.HasPrefix(l, ":"):
			name, _, _ := strings.Cut(l[1:], " ")
			if o := foreignOwner(name); o != "" {
				f := get(o)
				if c := table + " " + name; !slices.Contains(f.Chains, c) {
					f.Chains = append(f.Chains, c)
				}
			}
		case strings.HasPrefix(l, "-A "):
			chain, spec, _ := strings.Cut(l[3:], " ")
			o := foreignOwner(chain)
			if o == "" {
				o = foreignOwner(target(spec))
			}
			if o == "" {
				continue
			}
			f := get(o)
			fields := strings.Fields(spec)
			for i := 0; i+1 < len(fields); i++ {
				if fields[i] != "-i" && fields[i] != "-o" {
					continue
				}
				name := fields[i+1]
				if name == "!" && i+2 < len(fields) {
					name = fields[i+2]
				}
				if n, ok := strings.CutSuffix(name, "+"); ok {
					name = n + "0"
				}
				if name != "lo" && !slices.Contains(f.Ifaces, name) {
					f.Ifaces = append(f.Ifaces, name)
				}
			}
		}
	}
}

// probeIface is the interface a forwarded packet of a program whose rules
// name none comes in by: a name no policy uses, so that the question is
// what the policy does with an interface it does not name.
const probeIface = "fwc-probe0"

// Coexist warns (FW4001) for each program of fs whose forwarded traffic
// rs drops: a new tcp connection from each of its interfaces out to any
// other, and from any interface in to it, walked through rs by package
// sim with the addresses, ports and the other interface unknown. Only a
// drop on every path counts: a policy that accepts some of that traffic
// is left alone.
func Coexist(rs *ir.Ruleset, fs []Foreign) diag.Diagnostics {
	var ds diag.Diagnostics
	unknown := sem.Dims(0).With(sem.SAddr).With(sem.DAddr).With(sem.SPort).With(sem.DPort).
		With(sem.CtStatus).With(sem.Mark).With(sem.CtMark)
	for _, f := range fs {
		ifaces := f.Ifaces
		if len(ifaces) == 0 {
			ifaces = []string{probeIface}
		}
		for _, ifc := range ifaces {
			out := sem.Packet{Src: netip.MustParseAddr("172.17.0.2"), Dst: netip.MustParseAddr("203.0.113.1"),
				Proto: policy.ProtoTCP, SrcPort: 40000, DstPort: 443, TCPFlags: policy.SYN, CtState: policy.CtNew,
				InIface: ifc, Unknown: unknown.With(sem.OIf)}
			in := out
			in.Src, in.Dst, in.InIface, in.OutIface, in.Unknown = out.Dst, out.Src, "", ifc, unknown.With(sem.IIf)
			for _, dir := range []struct {
				p    sem.Packet
				what string
			}{{out, "from " + ifc + " out to another interface"}, {in, "from another interface in to " + ifc}} {
				r := sim.Run(rs, sem.Forwarded, dir.p, sim.Options{NoSteps: true})
				fate, why := r.Fate()
				if fate != sim.Dropped {
					continue
				}
				var rg diag.Range
				for _, w := range r.Ways {
					if w.By != nil && len(w.By.Pos) > 0 {
						rg = w.By.Pos[0].Subject()
						break
					}
				}
				ds.Add(diag.Warning, "FW4001", rg,
					fmt.Sprintf("the policy drops the traffic %s forwards: a new connection %s is dropped by %s", f.Owner, dir.what, why),
					fmt.Sprintf("%s's chains are in this namespace (%s). A drop in fwc's forward chain is final: %s's own rules never see the packet. Accept that traffic in the policy (fwc explain FW4001).",
						f.Owner, strings.Join(f.Chains, ", "), f.Owner))
			}
		}
	}
	return ds
}
