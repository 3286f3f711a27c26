// Package packet reads the concrete packet `fwc trace` is asked about,
// written in fwc's own match words:
//
//	iif eth0 to self saddr 203.0.113.5 tcp sport 40000 dport 22 ct state new
//
// The words are the rule language's (saddr, daddr, iif, oif, tcp dport,
// icmp type, ct state, mark, ...) and their names are the language's own
// lists (check.ProtoWords, check.CtStateWords, ...), so a name means the
// same in a PACKET as in a rule. The grammar is not the rule grammar's: a
// rule's match takes sets (lists, ranges, prefixes, named sets) where a
// packet has one value per field, and a packet has words no rule has
// (`to self`, `from self`, `icmp type ... code N`). Fields not written
// take the defaults Defaults documents, and Spec.Defaults says which did.
//
// It sits beside sim, whose input it makes (a sem.Packet and the path it
// starts on); errors are diagnostics positioned in the PACKET text.
package packet

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/policy"
	"github.com/fwcproject/fwc/sem"
)

// Diagnostic codes of a PACKET.
const (
	CodeSyntax = "FW0501" // a word that is not a packet word, or a missing or repeated one
	CodeValue  = "FW0502" // a value that is not valid for its word
)

func init() {
	diag.Register(diag.Doc{Code: CodeSyntax, Title: "Invalid packet description", Severity: diag.Error, Doc: `
The PACKET given to fwc trace is not made of packet words: a word is
unknown (the message suggests the closest one), a word lacks its value, a
field is given twice, or two words contradict each other (to self and from
self). The words are the rule language's match words with one value each;
see docs/trace.md.

    fwc trace host.fw 'to self saddr 203.0.113.5 tcp dprot 22'   # error: did you mean dport?
    fwc trace host.fw 'to self saddr 203.0.113.5 tcp dport 22'   # fixed
`})
	diag.Register(diag.Doc{Code: CodeValue, Title: "Invalid value in a packet description", Severity: diag.Error, Doc: `
A value in the PACKET given to fwc trace is not valid for its word: an
address that does not parse or is of the other family than the packet's
other address, a port or mark out of range, a name that is not one of the
word's names (the message suggests the closest one). A packet has one
value per field: lists, ranges, prefixes and named sets belong to rules.

    fwc trace host.fw 'to self saddr 203.0.113.0/24'   # error: one address, not a network
    fwc trace host.fw 'to self saddr 203.0.113.5'      # fixed
`})
}

// Spec is a parsed PACKET: the packet and the path it starts on.
type Spec struct {
	Path   sem.Path
	Packet sem.Packet
	// Defaults lists the fields that took their default, as packet words
	// ("sport 40000", "ct state new"), in a fixed order.
	Defaults []string
}

// Defaults of the fields a PACKET leaves out.
var (
	DefaultSrc4 = netip.MustParseAddr("192.0.2.1")
	DefaultDst4 = netip.MustParseAddr("198.51.100.1")
	DefaultSrc6 = netip.MustParseAddr("2001:db8::1")
	DefaultDst6 = netip.MustParseAddr("2001:db8:1::1")
)

const (
	DefaultSport = 40000
	DefaultDport = 80
)

// keywords are the words that start a field, for did-you-mean.
var keywords = []string{"to", "from", "iif", "oif", "saddr", "daddr", "proto", "tcp", "udp", "sctp", "udplite",
	"dccp", "sport", "dport", "icmp", "icmpv6", "type", "code", "flags", "ct", "state", "status", "mark", "self"}

type token struct {
	text string
	off  int
}

type parser struct {
	file string
	src  string
	toks []token
	i    int
	ds   diag.Diagnostics
	// given records the fields written, by name, with the token that
	// wrote them.
	given              map[string]token
	spec               *Spec
	src4               netip.Addr
	dst4               netip.Addr
	proto              policy.Proto
	sport, dport       *uint16
	icmpType, icmpCode *uint8
	flags              *uint8
	ctState, ctStatus  *uint32
	mark, ctMark       *uint32
	iif, oif           *string
	path               *sem.Path
}

// Parse reads src, the PACKET text; name is what diagnostics call it
// (their file name). The diagnostics point into src, one line.
func Parse(name, src string) (*Spec, diag.Diagnostics) {
	p := &parser{file: name, src: src, given: map[string]token{}, spec: &Spec{}}
	p.toks = tokenize(src)
	for p.i < len(p.toks) {
		p.word()
	}
	if p.ds.HasErrors() {
		return nil, p.ds
	}
	p.finish()
	if p.ds.HasErrors() {
		return nil, p.ds
	}
	return p.spec, p.ds
}

func tokenize(src string) []token {
	var out []token
	for i := 0; i < len(src); {
		if src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r' {
			i++
			continue
		}
		j := i
		for j < len(src) && !strings.ContainsRune(" \t\n\r", rune(src[j])) {
			j++
		}
		out = append(out, token{src[i:j], i})
		i = j
	}
	return out
}

// rng is the range of t (or, for a missing token, of the end of src).
func (p *parser) rng(t token) diag.Range {
	return diag.Range{Filename: p.file,
		Start: diag.Pos{Line: 1, Column: t.off + 1, Byte: t.off},
		End:   diag.Pos{Line: 1, Column: t.off + len(t.text) + 1, Byte: t.off + len(t.text)}}
}

func (p *parser) errf(code string, t token, detail, format string, args ...any) {
	p.ds.Add(diag.Error, code, p.rng(t), fmt.Sprintf(format, args...), detail)
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{off: len(p.src)}, false
}

func (p *parser) next() (token, bool) {
	t, ok := p.peek()
	if ok {
		p.i++
	}
	return t, ok
}

// value takes the value after keyword kw.
func (p *parser) value(kw token, what string) (token, bool) {
	t, ok := p.next()
	if !ok {
		p.errf(CodeSyntax, t, "", "%s needs %s after it", kw.text, what)
	}
	return t, ok
}

// once records field as given by t; a second time is an error.
func (p *parser) once(field string, t token) bool {
	if first, dup := p.given[field]; dup {
		p.ds.Add(diag.Error, CodeSyntax, p.rng(t), field+" is given twice",
			"A packet has one value per field.", diag.Related{Message: "first given here", Range: p.rng(first)})
		return false
	}
	p.given[field] = t
	return true
}

func (p *parser) word() {
	t, _ := p.next()
	switch t.text {
	case "to", "from":
		v, ok := p.value(t, "self")
		if !ok {
			return
		}
		if v.text != "self" {
			p.errf(CodeSyntax, v, "A packet the host forwards is described by its addresses and interfaces (daddr, oif), not by zones; the host's own traffic is `to self` or `from self`.",
				"%s takes only self, not %q", t.text, v.text)
			return
		}
		if !p.once("to self / from self", t) {
			return
		}
		path := sem.ToSelf
		if t.text == "from" {
			path = sem.FromSelf
		}
		p.path = &path
	case "iif", "oif":
		v, ok := p.value(t, "an interface name")
		if !ok || !p.once(t.text, t) {
			return
		}
		if len(v.text) > 15 || strings.ContainsAny(v.text, "*/,") {
			p.errf(CodeValue, v, "An interface name has 1 to 15 bytes and no wildcard: a packet arrives on one interface.", "%q is not an interface name", v.text)
			return
		}
		name := v.text
		if t.text == "iif" {
			p.iif = &name
		} else {
			p.oif = &name
		}
	case "saddr", "daddr":
		v, ok := p.value(t, "an address")
		if !ok || !p.once(t.text, t) {
			return
		}
		a, err := netip.ParseAddr(v.text)
		if err != nil || a.Zone() != "" {
			detail := ""
			if strings.Contains(v.text, "/") || strings.Contains(v.text, "-") {
				detail = "A packet has one address: networks and ranges belong to rules."
			}
			p.errf(CodeValue, v, detail, "%q is not an IP address", v.text)
			return
		}
		if t.text == "saddr" {
			p.src4 = a.Unmap()
		} else {
			p.dst4 = a.Unmap()
		}
	case "proto":
		v, ok := p.value(t, "a protocol")
		if ok && p.once("proto", t) {
			p.setProto(v)
		}
	case "tcp", "udp", "sctp", "udplite", "dccp", "icmp", "icmpv6":
		// `proto tcp tcp dport 22` says it twice, and agrees.
		if prev, dup := p.given["proto"]; dup {
			if p.proto != p.protoOf(t) {
				p.ds.Add(diag.Error, CodeSyntax, p.rng(t), "the protocol is given twice", "A packet has one protocol.",
					diag.Related{Message: "first given here", Range: p.rng(prev)})
				return
			}
		} else {
			p.given["proto"] = t
			p.setProto(t)
		}
		switch t.text {
		case "tcp":
			if n, ok := p.peek(); ok && n.text == "flags" {
				p.next()
				p.tcpFlags(n)
			}
		case "icmp", "icmpv6":
			if n, ok := p.peek(); ok && n.text == "type" {
				p.next()
				p.icmp(n)
			}
		}
	case "sport", "dport":
		v, ok := p.value(t, "a port")
		if !ok || !p.once(t.text, t) {
			return
		}
		n, err := strconv.ParseUint(v.text, 10, 16)
		if err != nil {
			p.errf(CodeValue, v, "A packet has one port, a number from 0 to 65535.", "%q is not a port", v.text)
			return
		}
		port := uint16(n)
		if t.text == "sport" {
			p.sport = &port
		} else {
			p.dport = &port
		}
	case "ct":
		kw, ok := p.value(t, "state, status or mark")
		if !ok {
			return
		}
		switch kw.text {
		case "state":
			v, ok := p.value(kw, "a ct state")
			if !ok || !p.once("ct state", t) {
				return
			}
			if n, ok := p.name(v, check.CtStateWords, "ct state"); ok {
				s := uint32(n)
				p.ctState = &s
			}
		case "status":
			v, ok := p.value(kw, "ct status names")
			if !ok || !p.once("ct status", t) {
				return
			}
			var bits uint32
			for _, part := range splitList(v) {
				n, ok := p.name(part, check.CtStatusWords, "ct status")
				if !ok {
					return
				}
				bits |= uint32(n)
			}
			p.ctStatus = &bits
		case "mark":
			v, ok := p.value(kw, "a mark")
			if ok && p.once("ct mark", t) {
				p.ctMark = p.markValue(v)
			}
		default:
			p.unknown(kw, "state", "status", "mark")
		}
	case "mark":
		v, ok := p.value(t, "a mark")
		if ok && p.once("mark", t) {
			p.mark = p.markValue(v)
		}
	case "type", "flags", "code":
		p.errf(CodeSyntax, t, "", "%s belongs after %s", t.text, map[string]string{"type": "icmp or icmpv6", "flags": "tcp", "code": "icmp type NAME"}[t.text])
	default:
		p.unknown(t, keywords...)
	}
}

func (p *parser) unknown(t token, candidates ...string) {
	msg := fmt.Sprintf("unknown packet word %q", t.text)
	if s := diag.Suggest(t.text, candidates); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	p.errf(CodeSyntax, t, "The words are "+strings.Join(keywords[:len(keywords)-1], ", ")+"; see docs/trace.md.", "%s", msg)
}

// name looks v up in a name list of the language, or reads a number.
func (p *parser) name(v token, w check.Words, what string) (uint64, bool) {
	if n, ok := w.Lookup(v.text); ok {
		return n, true
	}
	msg := fmt.Sprintf("unknown %s %q", what, v.text)
	if s := diag.Suggest(v.text, w.Names()); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	p.errf(CodeValue, v, "The names are "+strings.Join(w.Names(), ", ")+".", "%s", msg)
	return 0, false
}

// splitList splits "a,b" or "a|b" into tokens with their offsets.
func splitList(v token) []token {
	var out []token
	start := 0
	for i := 0; i <= len(v.text); i++ {
		if i == len(v.text) || v.text[i] == ',' || v.text[i] == '|' {
			out = append(out, token{v.text[start:i], v.off + start})
			start = i + 1
		}
	}
	return out
}

func (p *parser) protoOf(t token) policy.Proto {
	if n, ok := check.ProtoWords.Lookup(t.text); ok {
		return policy.Proto(n)
	}
	if t.text == "dccp" {
		return 33
	}
	if n, err := strconv.ParseUint(t.text, 10, 8); err == nil {
		return policy.Proto(n)
	}
	return 0
}

func (p *parser) setProto(v token) {
	if pr := p.protoOf(v); pr != 0 {
		p.proto = pr
		return
	}
	p.name(v, check.ProtoWords, "protocol")
}

func (p *parser) tcpFlags(kw token) {
	v, ok := p.value(kw, "tcp flags (syn, ack, ...; several joined by | or ,)")
	if !ok || !p.once("tcp flags", kw) {
		return
	}
	var f uint8
	for _, part := range splitList(v) {
		n, ok := p.name(part, check.TCPFlagWords, "tcp flag")
		if !ok {
			return
		}
		f |= uint8(n)
	}
	p.flags = &f
}

func (p *parser) icmp(kw token) {
	v, ok := p.value(kw, "an icmp type")
	if !ok || !p.once("icmp type", kw) {
		return
	}
	w := check.ICMPWords
	if p.proto == 58 {
		w = check.ICMPv6Words
	}
	var typ uint8
	if n, err := strconv.ParseUint(v.text, 10, 8); err == nil {
		typ = uint8(n)
	} else if n, ok := p.name(v, w, "icmp type"); ok {
		typ = uint8(n)
	} else {
		return
	}
	p.icmpType = &typ
	if c, ok := p.peek(); ok && c.text == "code" {
		p.next()
		cv, ok := p.value(c, "an icmp code")
		if !ok {
			return
		}
		n, err := strconv.ParseUint(cv.text, 10, 8)
		if err != nil {
			p.errf(CodeValue, cv, "", "%q is not an icmp code (0-255)", cv.text)
			return
		}
		code := uint8(n)
		p.icmpCode = &code
	}
}

func (p *parser) markValue(v token) *uint32 {
	n, err := strconv.ParseUint(v.text, 0, 32)
	if err != nil {
		p.errf(CodeValue, v, "A mark is a 32-bit number, decimal or 0x hexadecimal.", "%q is not a mark", v.text)
		return nil
	}
	m := uint32(n)
	return &m
}

// finish fills the defaults and checks what the fields say together.
func (p *parser) finish() {
	s, pk := p.spec, &p.spec.Packet
	def := func(w string) { s.Defaults = append(s.Defaults, w) }
	s.Path = sem.Forwarded
	if p.path != nil {
		s.Path = *p.path
	}
	src, dst := p.src4, p.dst4
	v6 := p.proto == 58
	switch {
	case src.IsValid() && dst.IsValid() && src.Is4() != dst.Is4():
		p.ds.Add(diag.Error, CodeValue, p.rng(p.tokAfter("daddr")), "daddr is of another family than saddr",
			"A packet's two addresses are of one family.", diag.Related{Message: "saddr", Range: p.rng(p.tokAfter("saddr"))})
		return
	case src.IsValid():
		v6 = !src.Is4()
	case dst.IsValid():
		v6 = !dst.Is4()
	}
	if (p.proto == 1 && v6) || (p.proto == 58 && !v6) {
		p.errf(CodeValue, p.given["proto"], "icmp is IPv4's, icmpv6 IPv6's.", "%s with an address of the other family", p.given["proto"].text)
		return
	}
	if !src.IsValid() {
		src = DefaultSrc4
		if v6 {
			src = DefaultSrc6
		}
		def("saddr " + src.String())
	}
	if !dst.IsValid() {
		dst = DefaultDst4
		if v6 {
			dst = DefaultDst6
		}
		def("daddr " + dst.String())
	}
	pk.Src, pk.Dst = src, dst
	if p.proto == 0 {
		p.proto = policy.ProtoTCP
		def("proto tcp")
	}
	pk.Proto = p.proto
	if (p.sport != nil || p.dport != nil) && !pk.Proto.HasPorts() {
		t := p.given["sport"]
		if _, ok := p.given["dport"]; ok {
			t = p.given["dport"]
		}
		p.errf(CodeValue, t, "Ports belong to tcp, udp, sctp, udplite and dccp.", "a port on a packet of a protocol without ports")
		return
	}
	if pk.Proto.HasPorts() {
		pk.SrcPort, pk.DstPort = DefaultSport, DefaultDport
		if p.sport != nil {
			pk.SrcPort = *p.sport
		} else {
			def("sport " + strconv.Itoa(DefaultSport))
		}
		if p.dport != nil {
			pk.DstPort = *p.dport
		} else {
			def("dport " + strconv.Itoa(DefaultDport))
		}
	}
	if p.icmpType != nil && pk.Proto != 1 && pk.Proto != 58 {
		p.errf(CodeValue, p.given["icmp type"], "", "icmp type on a packet that is not icmp")
		return
	}
	if pk.Proto == 1 || pk.Proto == 58 {
		if p.icmpType != nil {
			pk.ICMPType = *p.icmpType
		} else {
			pk.ICMPType = 8
			if pk.Proto == 58 {
				pk.ICMPType = 128
			}
			def("icmp type echo-request")
		}
		if p.icmpCode != nil {
			pk.ICMPCode = *p.icmpCode
		}
	}
	pk.CtState = policy.CtNew
	if p.ctState != nil {
		pk.CtState = *p.ctState
	} else {
		def("ct state new")
	}
	if p.ctStatus != nil {
		pk.CtStatus = *p.ctStatus
	} else if pk.CtState == policy.CtEstablished || pk.CtState == policy.CtRelated {
		// What a connection that has seen replies carries.
		pk.CtStatus = policy.StatusConfirmed | policy.StatusSeenReply | policy.StatusAssured
		def("ct status confirmed,seen-reply,assured")
	}
	if p.flags != nil {
		if pk.Proto != policy.ProtoTCP {
			p.errf(CodeValue, p.given["tcp flags"], "", "tcp flags on a packet that is not tcp")
			return
		}
		pk.TCPFlags = *p.flags
	} else if pk.Proto == policy.ProtoTCP {
		pk.TCPFlags = policy.ACK
		flags := "ack"
		if pk.CtState == policy.CtNew {
			pk.TCPFlags, flags = policy.SYN, "syn"
		}
		def("tcp flags " + flags)
	}
	if p.mark != nil {
		pk.Mark = *p.mark
	}
	if p.ctMark != nil {
		pk.CtMark = *p.ctMark
	}
	if pk.CtState == policy.CtUntracked || pk.CtState == policy.CtInvalid {
		pk.CtStatus, pk.CtMark = 0, 0
	}
	switch s.Path {
	case sem.FromSelf:
		if p.iif != nil {
			p.errf(CodeSyntax, p.given["iif"], "A packet the host sends has no input interface.", "iif on a packet from self")
			return
		}
	}
	if p.iif != nil {
		pk.InIface = *p.iif
	} else if s.Path != sem.FromSelf {
		pk.Unknown = pk.Unknown.With(sem.IIf)
	}
	// oif on a packet to self is where it leaves should a dnat send it
	// to another host.
	if p.oif != nil {
		pk.OutIface = *p.oif
	} else if s.Path != sem.ToSelf {
		pk.Unknown = pk.Unknown.With(sem.OIf)
	}
}

// tokAfter returns the value token of the field written by keyword kw.
func (p *parser) tokAfter(kw string) token {
	t := p.given[kw]
	k := slices.IndexFunc(p.toks, func(x token) bool { return x.off == t.off })
	if k >= 0 && k+1 < len(p.toks) {
		return p.toks[k+1]
	}
	return t
}
