package apply

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/policy"
)

// sysctlStep is one kernel setting to change: Have is what the target
// namespace holds now ("" when it has no such setting: its module is not
// loaded, or the interface does not exist).
type sysctlStep struct {
	Key, Path string
	Have      string
	Want      uint64
}

func (s sysctlStep) change() Change {
	have := s.Have
	if have == "" {
		have = "absent"
	}
	return Change{Op: '~', What: "sysctl " + s.Key, Detail: fmt.Sprintf("%s -> %d", have, s.Want)}
}

// sysctlSteps reads the settings want declares in the host's namespace
// and returns those that differ. /proc/sys/net shows the namespace of the
// thread that opens it, so the reads run on a thread moved there.
func (h *Host) sysctlSteps(want []*policy.Sysctl) ([]sysctlStep, error) {
	if len(want) == 0 {
		return nil, nil
	}
	var steps []sysctlStep
	err := inNetNS(h.ns, false, func() error {
		for _, s := range want {
			b, err := os.ReadFile(s.Path())
			have := strings.TrimSpace(string(b))
			switch {
			case errors.Is(err, os.ErrNotExist):
				have = ""
			case err != nil:
				return fmt.Errorf("read sysctl %s: %w", s.Key, err)
			}
			if n, perr := strconv.ParseUint(have, 10, 64); perr == nil && n == s.Value {
				continue
			}
			steps = append(steps, sysctlStep{Key: s.Key, Path: s.Path(), Have: have, Want: s.Value})
		}
		return nil
	})
	return steps, err
}

// planSysctls fills the plan's sysctl steps and lines.
func (p *Plan) planSysctls(h *Host, want *Want) error {
	var err error
	if p.sysctls, err = h.sysctlSteps(want.Sysctls); err != nil {
		return err
	}
	for _, s := range p.sysctls {
		p.Sysctls = append(p.Sysctls, s.change())
	}
	return nil
}

// writeSysctls writes steps in order in the host's namespace. If one
// fails, the ones written are put back to what they were, in reverse
// order, and the error says which setting failed and why (a setting the
// namespace lacks, or one that only the initial namespace may change).
func (h *Host) writeSysctls(steps []sysctlStep) (err, undo error) {
	ierr := inNetNS(h.ns, false, func() error {
		for i, s := range steps {
			werr := os.WriteFile(s.Path, []byte(strconv.FormatUint(s.Want, 10)+"\n"), 0o644)
			if werr == nil {
				continue
			}
			err = fmt.Errorf("sysctl %s = %d: %w", s.Key, s.Want, werr)
			var undoErrs []error
			for j := i - 1; j >= 0; j-- {
				u := steps[j]
				if uerr := os.WriteFile(u.Path, []byte(u.Have+"\n"), 0o644); uerr != nil {
					undoErrs = append(undoErrs, fmt.Errorf("undo sysctl %s = %s: %w", u.Key, u.Have, uerr))
				}
			}
			undo = errors.Join(undoErrs...)
			return nil
		}
		return nil
	})
	if ierr != nil {
		return ierr, nil
	}
	return err, undo
}

// applyHost makes the host settings change after the table: the routing
// steps, then the sysctls. A failed sysctl is a failed step like a failed
// routing change: what this apply changed of the routing is undone too, so
// that Apply puts the previous table back (or, at boot, keeps the table
// and reports it) exactly as for routing.
func (h *Host) applyHost(p *Plan) error {
	if err := applyRouting(h.route, p.steps); err != nil {
		return err
	}
	if len(p.sysctls) == 0 {
		return nil
	}
	err, undo := h.writeSysctls(p.sysctls)
	if err == nil {
		return nil
	}
	undoErrs := []error{undo}
	for i := len(p.steps) - 1; i >= 0; i-- {
		u := p.steps[i]
		u.add = !u.add
		if uerr := doStep(h.route, u); uerr != nil {
			undoErrs = append(undoErrs, fmt.Errorf("undo (%s): %w", u, uerr))
		}
	}
	return &RoutingError{Err: err, Undo: errors.Join(undoErrs...)}
}
