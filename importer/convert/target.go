package convert

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/importer/iptables"
)

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

var rejectWith = map[string]string{
	"icmp-net-unreachable": "icmp-net-unreachable", "icmp-host-unreachable": "icmp-host-unreachable",
	"icmp-port-unreachable": "icmp-port-unreachable", "icmp-proto-unreachable": "icmp-proto-unreachable",
	"icmp-net-prohibited": "icmp-net-prohibited", "icmp-host-prohibited": "icmp-host-prohibited",
	"icmp-admin-prohibited": "icmp-admin-prohibited", "tcp-reset": "tcp-reset",
	"icmp6-no-route": "icmpv6-no-route", "no-route": "icmpv6-no-route",
	"icmp6-adm-prohibited": "icmpv6-adm-prohibited", "adm-prohibited": "icmpv6-adm-prohibited",
	"icmp6-addr-unreachable": "icmpv6-addr-unreachable", "addr-unreach": "icmpv6-addr-unreachable",
	"icmp6-port-unreachable": "icmpv6-port-unreachable", "port-unreach": "icmpv6-port-unreachable",
	"net-unreach": "icmp-net-unreachable", "host-unreach": "icmp-host-unreachable",
	"proto-unreach": "icmp-proto-unreachable", "net-prohib": "icmp-net-prohibited",
	"host-prohib": "icmp-host-prohibited", "admin-prohib": "icmp-admin-prohibited",
	"tcp-rst": "tcp-reset",
}

// fwcString quotes s as an fwc string.
func fwcString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (b *rb) target(bad map[chainKey]bool) {
	t := b.r.Target
	if t == nil {
		// A rule without a target only counts its packets.
		b.acts = append(b.acts, "counter")
		return
	}
	opt := func(name string) *iptables.Option {
		for _, o := range t.Options {
			if o.Name == name {
				return o
			}
		}
		return nil
	}
	only := func(names ...string) bool {
		for _, o := range t.Options {
			ok := false
			for _, n := range names {
				ok = ok || o.Name == n
			}
			if !ok || o.Negated {
				b.fail(o.Range, "%s of -j %s has no fwc equivalent", o.Name, t.Name)
				return false
			}
		}
		return true
	}
	if t.Chain {
		if bad[chainKey{b.table, t.Name}] {
			b.fail(t.Range, "jump to chain %q, whose name fwc cannot use", t.Name)
			return
		}
		if !only() {
			return
		}
		if t.Goto {
			b.acts = append(b.acts, "goto "+t.Name)
		} else {
			b.acts = append(b.acts, "jump "+t.Name)
		}
		return
	}
	if t.Goto {
		b.fail(t.Range, "-g %s: goto needs a chain", t.Name)
		return
	}
	switch t.Name {
	case "ACCEPT", "DROP", "RETURN":
		if only() {
			b.acts = append(b.acts, strings.ToLower(t.Name))
		}
	case "REJECT":
		if !only("--reject-with") {
			return
		}
		if o := opt("--reject-with"); o != nil {
			w, ok := rejectWith[o.Value()]
			if !ok {
				b.fail(valRange(o), "reject type %q cannot be imported", o.Value())
				return
			}
			if strings.HasPrefix(w, "icmpv6-") || w == "icmp-proto-unreachable" {
				b.out.familyBound = true
			}
			b.acts = append(b.acts, "reject with "+w)
			return
		}
		b.acts = append(b.acts, "reject")
	case "LOG":
		if !only("--log-prefix", "--log-level", "--log-tcp-sequence", "--log-tcp-options", "--log-ip-options") {
			return
		}
		s := "log"
		if o := opt("--log-prefix"); o != nil {
			s += " prefix " + fwcString(o.Value())
		}
		if o := opt("--log-level"); o != nil {
			l := strings.ToLower(o.Value())
			if !uintIn(l, 0, 7) && !logLevels[l] {
				b.fail(valRange(o), "log level %q cannot be imported", o.Value())
				return
			}
			s += " level " + l
		}
		var fl []string
		for _, n := range []string{"--log-tcp-sequence", "--log-tcp-options", "--log-ip-options"} {
			if opt(n) != nil {
				fl = append(fl, strings.TrimPrefix(n, "--log-"))
			}
		}
		if len(fl) > 0 {
			s += " flags " + strings.Join(fl, ", ")
		}
		b.acts = append(b.acts, s)
	case "MASQUERADE":
		if !only("--to-ports", "--random", "--random-fully") {
			return
		}
		if opt("--to-ports") != nil {
			b.fail(opt("--to-ports").Range, "--to-ports of -j MASQUERADE has no fwc equivalent")
			return
		}
		b.acts = append(b.acts, "masquerade"+natFlags(opt))
	case "SNAT", "DNAT":
		key := map[string]string{"SNAT": "--to-source", "DNAT": "--to-destination"}[t.Name]
		if !only(key, "--random", "--random-fully", "--persistent") {
			return
		}
		o := opt(key)
		if o == nil || len(o.Values) != 1 || strings.Count(o.Value(), " ") > 0 {
			b.fail(t.Range, "-j %s without one %s has no fwc equivalent", t.Name, key)
			return
		}
		to, ok := natTo(o.Value(), b.rs.Family)
		if !ok {
			b.fail(valRange(o), "%s %q cannot be imported", key, o.Value())
			return
		}
		b.out.familyBound = true
		b.acts = append(b.acts, strings.ToLower(t.Name)+" to "+to+natFlags(opt))
	case "REDIRECT":
		if !only("--to-ports", "--random") {
			return
		}
		s := "redirect"
		if o := opt("--to-ports"); o != nil {
			p, ok := ports(strings.ReplaceAll(o.Value(), "-", ":"))
			if !ok || strings.Contains(p, ",") {
				b.fail(valRange(o), "--to-ports %q cannot be imported", o.Value())
				return
			}
			s += " to " + p
		}
		b.acts = append(b.acts, s+natFlags(opt))
	case "MARK":
		if !only("--set-xmark", "--set-mark", "--or-mark", "--and-mark", "--xor-mark") || len(t.Options) != 1 {
			if len(t.Options) != 1 {
				b.fail(t.Range, "-j MARK needs exactly one option")
			}
			return
		}
		s, ok := markSet(t.Options[0])
		if !ok {
			b.fail(t.Options[0].Range, "%s %s cannot be imported", t.Options[0].Name, t.Options[0].Value())
			return
		}
		b.acts = append(b.acts, "mark set "+s)
	case "CONNMARK":
		b.connmark(t)
	case "CT":
		if len(t.Options) == 1 && t.Options[0].Name == "--notrack" {
			b.acts = append(b.acts, "notrack")
			return
		}
		b.fail(t.Range, "-j CT without --notrack alone has no fwc equivalent")
	case "NOTRACK":
		if only() {
			b.acts = append(b.acts, "notrack")
		}
	case "TRACE":
		if only() {
			b.acts = append(b.acts, "trace")
		}
	case "TTL", "HL":
		set := map[string]string{"TTL": "--ttl-set", "HL": "--hl-set"}[t.Name]
		if !only(set) || len(t.Options) != 1 {
			if len(t.Options) != 1 {
				b.fail(t.Range, "-j %s without %s has no fwc equivalent", t.Name, set)
			}
			return
		}
		if !uintIn(t.Options[0].Value(), 1, 255) {
			b.fail(valRange(t.Options[0]), "%s %q cannot be imported", set, t.Options[0].Value())
			return
		}
		b.acts = append(b.acts, "ttl set "+t.Options[0].Value())
	default:
		if strings.ToUpper(t.Name) != t.Name {
			// Targets are upper case; this is a chain the file does not
			// declare (the reader warned).
			b.fail(t.Range, "jump to %s, a chain table %s does not declare", t.Name, b.table)
			return
		}
		b.fail(t.Range, "-j %s has no fwc equivalent", t.Name)
	}
}

var logLevels = map[string]bool{
	"emerg": true, "alert": true, "crit": true, "err": true, "warn": true, "warning": true,
	"notice": true, "info": true, "debug": true,
}

func natFlags(opt func(string) *iptables.Option) string {
	s := ""
	for _, n := range []string{"--random", "--random-fully", "--persistent"} {
		if opt(n) != nil {
			s += " " + strings.TrimPrefix(n, "--")
		}
	}
	return s
}

// natTo converts "a[-b][:p[-q]]" (IPv6 in brackets when with a port).
func natTo(s string, fam Family) (string, bool) {
	addrs, port := s, ""
	if fam == IPv6 {
		if strings.HasPrefix(s, "[") {
			i := strings.Index(s, "]")
			if i < 0 {
				return "", false
			}
			addrs, port = s[1:i], strings.TrimPrefix(s[i+1:], ":")
			if port == s[i+1:] && port != "" {
				return "", false
			}
		}
	} else if a, p, ok := strings.Cut(s, ":"); ok {
		addrs, port = a, p
	}
	var out []string
	for _, a := range strings.SplitN(addrs, "-", 2) {
		p, ok := parseAddr(a)
		if !ok || !p.IsSingleIP() || p.Addr().Is4() != (fam == IPv4) {
			return "", false
		}
		out = append(out, p.Addr().String())
	}
	to := strings.Join(out, "-")
	if port != "" {
		lo, hi, isRange := strings.Cut(port, "-")
		for _, x := range []string{lo, hi} {
			if x == "" && !isRange && x == hi {
				continue
			}
			if _, err := strconv.ParseUint(x, 10, 16); err != nil {
				return "", false
			}
		}
		if fam == IPv6 {
			if len(out) != 1 {
				return "", false
			}
			to = "[" + to + "]"
		}
		to += ":" + port
	}
	return to, true
}

func parseMark(s string) (v, m uint32, hasMask, ok bool) {
	a, b, hasMask := strings.Cut(s, "/")
	x, err := strconv.ParseUint(a, 0, 32)
	if err != nil {
		return 0, 0, false, false
	}
	m = 0xffffffff
	if hasMask {
		y, err := strconv.ParseUint(b, 0, 32)
		if err != nil {
			return 0, 0, false, false
		}
		m = uint32(y)
	}
	return uint32(x), m, hasMask, true
}

func hex(v uint32) string { return "0x" + strconv.FormatUint(uint64(v), 16) }

// markSet is the fwc `mark set` value of a MARK option. The kernel computes
// mark = (mark & ^mask) ^ value; fwc's V/M is that with V within M.
func markSet(o *iptables.Option) (string, bool) {
	v, m, hasMask, ok := parseMark(o.Value())
	if !ok {
		return "", false
	}
	switch o.Name {
	case "--set-mark":
		m |= v // as iptables' MARK revision 2 stores it
	case "--or-mark":
		if hasMask {
			return "", false
		}
		m = v
	case "--and-mark":
		if hasMask {
			return "", false
		}
		m, v = ^v, 0
	case "--xor-mark":
		return "", false
	}
	if v&^m != 0 {
		return "", false
	}
	if m == 0xffffffff {
		return hex(v), true
	}
	return hex(v) + "/" + hex(m), true
}

func (b *rb) connmark(t *iptables.Target) {
	var save, restore, set *iptables.Option
	nf, ct := uint32(0xffffffff), uint32(0xffffffff)
	for _, o := range t.Options {
		var err error
		var x uint64
		switch o.Name {
		case "--save-mark":
			save = o
		case "--restore-mark":
			restore = o
		case "--set-xmark", "--set-mark":
			set = o
		case "--nfmask":
			x, err = strconv.ParseUint(o.Value(), 0, 32)
			nf = uint32(x)
		case "--ctmask":
			x, err = strconv.ParseUint(o.Value(), 0, 32)
			ct = uint32(x)
		case "--mask":
			x, err = strconv.ParseUint(o.Value(), 0, 32)
			nf, ct = uint32(x), uint32(x)
		default:
			err = strconv.ErrSyntax
		}
		if err != nil || o.Negated {
			b.fail(o.Range, "%s of -j CONNMARK has no fwc equivalent", o.Name)
			return
		}
	}
	switch {
	case set != nil && save == nil && restore == nil && nf == 0xffffffff && ct == 0xffffffff:
		s, ok := markSet(set)
		if !ok {
			b.fail(set.Range, "%s %s cannot be imported", set.Name, set.Value())
			return
		}
		b.acts = append(b.acts, "connmark set "+s)
	case (save != nil) != (restore != nil) && set == nil && nf == ct:
		s := "connmark save"
		if restore != nil {
			s = "connmark restore"
		}
		if nf != 0xffffffff {
			s += " mask " + hex(nf)
		}
		b.acts = append(b.acts, s)
	default:
		b.fail(t.Range, "this -j CONNMARK has no fwc equivalent")
	}
}
