package apply

import (
	"errors"
	"fmt"

	"github.com/google/nftables"

	"github.com/fwcproject/fwc/backend/nft"
	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/ir"
)

// Outcome is what an apply did: batch.Applied, batch.NotApplied (the host
// is as it was) or batch.Unknown.
type Outcome = batch.Outcome

// ErrGenerationChanged is wrapped by the error of an apply refused because
// the ruleset changed since the plan was made. Nothing was applied.
var ErrGenerationChanged = batch.ErrGenerationChanged

// BuildFunc queues a ruleset on a google/nftables connection: fwc's table
// reset (batch.ResetTable), then its whole content. Tests use it to apply
// hand-made rulesets; it must queue nothing else.
type BuildFunc func(*nftables.Conn, *ir.Ruleset) error

// Options tune Apply.
type Options struct {
	// Build, when set, queues the ruleset for the netlink batch instead of
	// backend/nft's encoding of the plan's ruleset (nft.Messages).
	Build BuildFunc
	// Script loads the plan's nft script with `nft -f` instead of the
	// netlink batch: one nft transaction too, but without the kernel's
	// generation guard (the generation is checked just before).
	Script bool
	// Boot installs the table even when the routing cannot follow yet: at
	// boot, before the network is configured, a route's device or gateway
	// may not exist. A failed routing change is then undone (routing is
	// as it was) but the new table stays, and Apply returns Applied with
	// a *RoutesDeferred error; a later apply, once the network is up,
	// installs the routes.
	Boot bool
}

// RoutesDeferred is Apply's error, with the outcome Applied, when
// Options.Boot is set and the routing or a sysctl could not be installed:
// the table is the new one, the ip rules, routes and sysctls are as they
// were.
type RoutesDeferred struct {
	Err error // the routing failure
}

func (e *RoutesDeferred) Error() string {
	return fmt.Sprintf("the table is installed but not the routes and sysctls (%v); apply again once the network is up", e.Err)
}

func (e *RoutesDeferred) Unwrap() error { return e.Err }

// Apply makes the live state what the plan wants. First fwc's nftables
// table is replaced in one atomic batch, guarded by the plan's generation:
// if anyone changed the ruleset since the plan was read, nothing is applied
// and the error wraps ErrGenerationChanged. Then the ip rules and routes
// change, step by step; if one fails, the steps done are undone in reverse
// and the previous table is put back.
//
// An empty plan changes nothing and is Applied. The error is nil exactly
// when the outcome is Applied, but for a *RoutesDeferred (Options.Boot).
func Apply(h *Host, p *Plan, opts Options) (Outcome, error) {
	if p.Empty() {
		return batch.Applied, nil
	}
	if p.ipt != nil {
		return applyIptables(h, p, opts)
	}
	gen := p.Have.Generation
	var prev string
	if len(p.Table) > 0 {
		// The table to put back if routing fails: the kernel's, with what
		// packets added to dynamic sets (already read when the plan
		// compared listings); see snapshotTable.
		if len(p.steps) > 0 || len(p.sysctls) > 0 {
			var err error
			if prev, err = snapshotTable(p.Have); err != nil {
				return batch.NotApplied, err
			}
		}
		var (
			out     Outcome
			err     error
			handles map[string][]uint64
		)
		if p.incr != nil && !opts.Script && opts.Build == nil {
			out, handles, err = h.commitIncremental(gen, p.incr)
			if out == batch.NotApplied && !errors.Is(err, ErrGenerationChanged) {
				// The kernel refused the difference (the table is not
				// what the record says): nothing changed, so the whole
				// table is replaced instead, under the same guard.
				out, handles, err = h.commitTable(gen, p.Want, opts, nil)
			}
		} else {
			out, handles, err = h.commitTable(gen, p.Want, opts, p.carry)
		}
		if out != batch.Applied {
			return out, err
		}
		h.recordApplied(p.Want, gen+1, handles)
	}
	return h.routeAfter(p, opts, "nftables table", "is", func() error { return h.restoreTable(prev) })
}

// routeAfter runs the plan's routing steps and writes its sysctls once the
// firewall part is in, for either backend (applyHost). When a step fails
// and its own undo worked, the firewall part is put back with restore
// (what and is name it in the message: "nftables table" "is", "iptables
// rules" "are"), so that nothing is left half-applied; under --boot the
// routes and sysctls are left for later instead (RoutesDeferred).
func (h *Host) routeAfter(p *Plan, opts Options, what, is string, restore func() error) (batch.Outcome, error) {
	if len(p.steps) == 0 && len(p.sysctls) == 0 {
		return batch.Applied, nil
	}
	rerr := h.applyHost(p)
	if rerr == nil {
		return batch.Applied, nil
	}
	var re *RoutingError
	if errors.As(rerr, &re) && re.Undo != nil {
		return batch.Unknown, rerr
	}
	if opts.Boot {
		return batch.Applied, &RoutesDeferred{Err: rerr}
	}
	if len(p.Table) == 0 {
		return batch.NotApplied, rerr
	}
	if err := restore(); err != nil {
		return batch.Unknown, fmt.Errorf("%w; putting the previous %s back failed: %v", rerr, what, err)
	}
	return batch.NotApplied, fmt.Errorf("%w; the previous %s %s back", rerr, what, is)
}

// commitTable replaces fwc's table in one netlink batch guarded by gen: the
// plan's ruleset as backend/nft encodes it, or what opts.Build queues, or
// (opts.Script) the nft script loaded with nft -f. For backend/nft's
// batch, it returns the handles of the rules it made, when it could make
// sure of them (see handlesRecord). With cr, rules that stay carry their
// counters over (see carryCounters).
func (h *Host) commitTable(gen uint32, w *Want, opts Options, cr *carry) (Outcome, map[string][]uint64, error) {
	switch {
	case opts.Script:
		out, err := h.loadScript(gen, w.Script)
		return out, nil, err
	case opts.Build != nil:
		out, err := h.nft.Commit(gen, func(c *nftables.Conn) error { return opts.Build(c, w.Ruleset) })
		return out, nil, err
	}
	msgs, err := w.messages()
	if err != nil {
		return batch.NotApplied, nil, fmt.Errorf("encode the ruleset: %w", err)
	}
	carryCounters(h.nft, cr, msgs)
	keep, err := runtimeElements(h.nft, w, msgs)
	if err != nil {
		return batch.NotApplied, nil, fmt.Errorf("read the elements of dynamic sets: %w", err)
	}
	out, err := h.nft.CommitMessages(gen, append(msgs, keep...))
	if out != batch.Applied || h.Cache == "" {
		return out, nil, err
	}
	hs, fresh := predictHandles(msgs)
	if !fresh || !verifyHandles(h.nft, msgs, hs) {
		hs = nil
	}
	return out, hs, err
}

// loadScript loads an nft script with `nft -f`, after checking that the
// generation is still gen, and decides the outcome from the generation
// afterwards.
func (h *Host) loadScript(gen uint32, script []byte) (Outcome, error) {
	now, err := h.nft.Generation()
	if err != nil {
		return batch.NotApplied, fmt.Errorf("read the nftables generation: %w", err)
	}
	if now != gen {
		return batch.NotApplied, fmt.Errorf("%w: the plan was based on generation %d, the ruleset is now at %d", ErrGenerationChanged, gen, now)
	}
	_, nerr := h.nftCmd(script, "-f", "-")
	after, err := h.nft.Generation()
	switch {
	case err != nil:
		return batch.Unknown, fmt.Errorf("nft -f: %v; then reading the generation failed: %w", nerr, err)
	case nerr == nil && after == gen+1:
		return batch.Applied, nil
	case nerr != nil && after == gen:
		return batch.NotApplied, fmt.Errorf("nft -f refused the ruleset, nothing was applied: %w", nerr)
	case nerr != nil:
		return batch.Unknown, fmt.Errorf("nft -f failed (%v) and the generation moved from %d to %d", nerr, gen, after)
	}
	return batch.Unknown, fmt.Errorf("nft -f succeeded but the generation moved from %d to %d: others changed the ruleset at the same time", gen, after)
}

// Hooks let tests of fwc's command line reach states that no input makes
// on a healthy host. They are zero in use.
var Hooks struct {
	// RestoreTable, when not nil, is the error of every attempt to put
	// fwc's previous table back (after a failed routing step, or in a
	// rollback), as if nft had failed.
	RestoreTable error
}

// restoreTable makes fwc's table what text (an nft listing of it) says, or
// removes it when text is empty, in one nft transaction.
func (h *Host) restoreTable(text string) error {
	if Hooks.RestoreTable != nil {
		return Hooks.RestoreTable
	}
	script := fmt.Sprintf("table inet %s {}\ndelete table inet %s\n%s", nft.Table, nft.Table, text)
	_, err := h.nftCmd([]byte(script), "-f", "-")
	return err
}
