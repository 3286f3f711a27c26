package batch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/nftables"
)

// Outcome is what a Commit did to the kernel ruleset.
type Outcome int

const (
	// NotApplied: the kernel ruleset is as it was before the commit; none of
	// the batch took effect.
	NotApplied Outcome = iota
	// Applied: the whole batch took effect, atomically.
	Applied
	// Unknown: the commit's fate could not be established (for example the
	// kernel's answer was lost and the generation moved by other writers as
	// well). The caller should re-read the ruleset before doing anything else.
	Unknown
)

// String returns "not applied", "applied" or "unknown".
func (o Outcome) String() string {
	switch o {
	case NotApplied:
		return "not applied"
	case Applied:
		return "applied"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// ErrGenerationChanged is wrapped by the error of a Commit that the kernel
// refused (ERESTART) because the ruleset generation was no longer the one the
// commit was guarded with: someone else changed the ruleset in between. The
// outcome is always NotApplied.
var ErrGenerationChanged = errors.New("nftables ruleset generation changed")

// MessageError is the kernel's refusal of one message of a batch. Commit
// returns one per refused message, joined (see errors.Join); find them with
// errors.As. A refused message makes the kernel abort the whole batch.
type MessageError struct {
	// Index is the message's position among the messages the build function
	// queued, from 0 (the batch begin and end that Commit adds are not
	// counted).
	Index int
	// Op names the operation, such as "add rule" or "add set elements".
	Op string
	// Family, Table and Object locate the message where it names them: Object
	// is the chain of a rule or chain message, the set of a set or element
	// message, the object or flowtable name otherwise; empty when absent.
	Family nftables.TableFamily
	Table  string
	Object string
	// Rule is, for a rule message, its position among the rules the batch
	// adds to the same chain, from 0; -1 otherwise.
	Rule int
	// Err is the error number the kernel answered, a syscall.Errno.
	Err error
}

func (e *MessageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "message %d (%s", e.Index, e.Op)
	if e.Table != "" {
		fmt.Fprintf(&b, " %s %s", familyName(e.Family), e.Table)
	}
	if e.Object != "" {
		fmt.Fprintf(&b, " %s", e.Object)
	}
	if e.Rule >= 0 {
		fmt.Fprintf(&b, ", rule %d of the batch in that chain", e.Rule)
	}
	fmt.Fprintf(&b, "): %v", e.Err)
	return b.String()
}

// Unwrap returns Err, so errors.Is(err, syscall.ENOENT) works.
func (e *MessageError) Unwrap() error { return e.Err }

func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyARP:
		return "arp"
	case nftables.TableFamilyNetdev:
		return "netdev"
	case nftables.TableFamilyBridge:
		return "bridge"
	case nftables.TableFamilyUnspecified:
		return "unspec"
	}
	return fmt.Sprintf("family%d", uint8(f))
}
