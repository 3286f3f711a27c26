package convert

import (
	"bytes"
	"regexp"
)

// Format is a kind of input fwc import reads.
type Format int

const (
	Unknown   Format = iota
	Iptables         // iptables-save
	Ip6tables        // ip6tables-save
	Ipset            // ipset save
	Nft              // nft text: nft list ruleset, nftables.conf
	NftJSON          // nft -j list ruleset
)

func (f Format) String() string {
	return [...]string{"unknown", "iptables", "ip6tables", "ipset", "nft", "nft-json"}[f]
}

var (
	v6Header = regexp.MustCompile(`(?m)^#.*ip6tables-save`)
	v6Words  = regexp.MustCompile(`(?m)^\s*(\[\d+:\d+\]\s*)?-[AI]\s.*(\s-[sd]\s+!?\s*[0-9a-fA-F]*:[0-9a-fA-F:./]*|icmpv6|ipv6-icmp|icmp6|\s-6\b)`)
	v4Words  = regexp.MustCompile(`(?m)^\s*(\[\d+:\d+\]\s*)?-[AI]\s.*(\s-[sd]\s+!?\s*\d+\.\d+\.\d+\.\d+|--icmp-type|\s-4\b)`)
	table    = regexp.MustCompile(`(?m)^\s*\*[a-z]+\s*$`)
	ipsetCmd = regexp.MustCompile(`(?m)^\s*(create|-N)\s+\S+\s+(hash|bitmap|list):`)
	nftCmd   = regexp.MustCompile(`(?m)^\s*(table\s+(\S+\s+)?\S+\s*\{|flush\s+ruleset|(add|create|insert)\s+(table|chain|rule|set|map|element)\s|define\s+\S+\s*=|include\s+")`)
	jsonHead = regexp.MustCompile(`^\s*\{\s*"nftables"\s*:`)
)

// Detect tells the format of src by its content: JSON whose first key is
// "nftables"; a "*table" line (iptables-save, which is IPv6 when its header
// says ip6tables-save or when its rules hold IPv6 addresses or ICMPv6 and
// no IPv4 ones); an ipset create line; an nft command (table, flush
// ruleset, add, define, include). Unknown when none.
func Detect(src []byte) Format {
	head := src
	if len(head) > 1<<20 {
		head = head[:1<<20]
	}
	switch {
	case jsonHead.Match(head):
		return NftJSON
	case ipsetCmd.Match(head) && !table.Match(head):
		return Ipset
	case table.Match(head):
		if v6Header.Match(head) {
			return Ip6tables
		}
		if bytes.Contains(head, []byte("iptables-save")) {
			return Iptables
		}
		if v6Words.Match(head) && !v4Words.Match(head) {
			return Ip6tables
		}
		return Iptables
	case nftCmd.Match(head):
		return Nft
	}
	return Unknown
}
