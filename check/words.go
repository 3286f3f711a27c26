package check

import (
	"maps"
	"slices"
)

// Words is one of the language's name lists (vocab.go) with the numbers
// the names stand for, for readers of fwc's words outside a policy (the
// packet `fwc trace` is asked about), so that a name means the same there
// as in a rule.
type Words struct {
	m map[string]uint64
}

// Lookup returns the number name stands for.
func (w Words) Lookup(name string) (uint64, bool) {
	v, ok := w.m[name]
	return v, ok
}

// Names returns the names, sorted (for did-you-mean and messages).
func (w Words) Names() []string { return slices.Sorted(maps.Keys(w.m)) }

// Name returns the shortest name of v (the first sorted, when several are
// as short), or "".
func (w Words) Name(v uint64) string {
	best := ""
	for _, n := range w.Names() {
		if w.m[n] == v && (best == "" || len(n) < len(best)) {
			best = n
		}
	}
	return best
}

func words[V ~uint8 | uint32 | int](m map[string]V) Words {
	out := Words{m: make(map[string]uint64, len(m))}
	for k, v := range m {
		out.m[k] = uint64(v)
	}
	return out
}

// The name lists.
var (
	ProtoWords    = words(protoNames)
	ICMPWords     = words(icmpTypes)
	ICMPv6Words   = words(icmpv6Types)
	CtStateWords  = words(ctStates)
	CtStatusWords = words(ctStatuses)
	TCPFlagWords  = words(tcpFlags)
)
