package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/apply"
)

func newConfirmCmd(e *env) *cobra.Command {
	var (
		netns, stateDir, watchdog string
		rollback, keep            bool
	)
	cmd := &cobra.Command{
		Use:   "confirm [--netns NAME] [--rollback | --keep]",
		Short: "Keep a ruleset installed with apply --confirm",
		Long: `Confirm keeps the ruleset installed by "fwc apply --confirm DURATION";
without it the previous ruleset and routes are restored when the time runs
out.

--rollback restores the previous ruleset and routes now instead.

If the watchdog that was to roll back is not running any more (it was
killed, or the host rebooted) and the deadline has passed, nothing was
rolled back: the ruleset applied with --confirm is still loaded (or, after
a reboot, whatever the boot loaded). Confirm then says so and changes
nothing; choose with --keep (keep what is loaded) or --rollback.

A pending file that cannot be read is moved aside (to its name plus
".unreadable"): nothing can be rolled back from it, so what is loaded
stays.

Exit status: 0 confirmed (or rolled back with --rollback), 1 when no apply
waits for confirmation (none was made, it was confirmed already, or it was
rolled back) or when it needs --keep or --rollback, 2 for usage or I/O
problems, 3 when the rollback failed.`,
		Example: `  fwc apply --confirm 30s host.fw
  fwc confirm`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if watchdog != "" {
				return runWatchdog(e, stateDir, netns, watchdog)
			}
			if rollback && keep {
				return usagef("--rollback and --keep exclude each other")
			}
			if rollback {
				w, err := apply.RollbackNow(stateDir, netns)
				switch {
				case errors.Is(err, apply.ErrNothingPending):
					return nothingPending(stateDir, netns, err)
				case errors.Is(err, apply.ErrPending):
					return &exitError{code: exitFindings, err: fmt.Errorf("cannot roll back: %v\n%s", err, whatNow(w, netns, stateDir, time.Now()))}
				case w != nil && err != nil:
					return &exitError{code: exitUnknown, err: fmt.Errorf("the rollback failed: %v\nThe pending file %s is kept; run '%s --rollback' to try again", err, w.Path, confirmCmd(netns, stateDir))}
				case err != nil:
					return &exitError{code: exitUsage, err: err}
				}
				fmt.Fprintf(e.stdout, "Rolled back: the ruleset and routes from before the apply of %s are back.\n", w.Pending.Created.Format(time.TimeOnly))
				return nil
			}
			w, err := apply.Confirm(stateDir, netns, apply.ConfirmOptions{Keep: keep})
			switch {
			case errors.Is(err, apply.ErrNothingPending):
				return nothingPending(stateDir, netns, err)
			case errors.Is(err, apply.ErrPending):
				return &exitError{code: exitFindings, err: fmt.Errorf("not confirmed: %s", whatNow(w, netns, stateDir, time.Now()))}
			case err != nil:
				return &exitError{code: exitUsage, err: err}
			case w.Unreadable != nil:
				fmt.Fprintf(e.stderr, "fwc: warning: the pending file %s could not be read (%v): nothing could be rolled back from it; moved to %s.unreadable\n", w.Path, w.Unreadable, w.Path)
				fmt.Fprintln(e.stdout, "Confirmed: what is loaded stays.")
				return nil
			case !w.WatchdogAlive:
				fmt.Fprintf(e.stderr, "fwc: warning: the watchdog of this apply was not running (killed or crashed): nothing would have rolled it back\n")
			}
			fmt.Fprintf(e.stdout, "Confirmed: the ruleset applied with --confirm stays (deadline was %s).\n", w.Pending.Deadline.Format(time.TimeOnly))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&netns, "netns", "", "the network `namespace` NAME (or path) given to apply")
	f.StringVar(&stateDir, "state-dir", apply.DefaultStateDir, "the `directory` given to apply")
	f.BoolVar(&rollback, "rollback", false, "restore the ruleset and routes from before the apply now")
	f.BoolVar(&keep, "keep", false, "keep what is loaded even though its watchdog died and the deadline passed")
	f.StringVar(&watchdog, "watchdog", "", "run as the watchdog of the apply with this `token` (internal)")
	_ = f.MarkHidden("watchdog")
	return cmd
}

// nothingPending is confirm's answer when no apply waits, with what the
// last watchdog did if it left a record.
func nothingPending(stateDir, netns string, err error) error {
	why := "confirmed already, rolled back, or never applied with --confirm"
	if o, _ := apply.LastWatchdogRecord(stateDir, netns); o != nil && o.Action == apply.RolledBack {
		why = fmt.Sprintf("the watchdog rolled back the apply due at %s, at %s", o.Deadline.Format(time.TimeOnly), o.Decided.Format(time.TimeOnly))
	}
	return &exitError{code: exitFindings, err: fmt.Errorf("%v (%s)", err, why)}
}

// whatNow says what state an apply waiting for confirmation leaves the
// kernel in, and what the operator can run.
func whatNow(w *apply.Waiting, netns, stateDir string, now time.Time) string {
	if w == nil {
		return ""
	}
	confirm := confirmCmd(netns, stateDir)
	if w.Unreadable != nil {
		s := fmt.Sprintf("the pending file %s of an apply --confirm cannot be read (%v), so nothing can be rolled back from it. ", w.Path, w.Unreadable)
		if w.WatchdogAlive {
			s += "Its watchdog is still running and will roll back at its deadline unless confirmed. "
		}
		return s + fmt.Sprintf("Run '%s' to keep what is loaded (the file is moved aside), then apply again.", confirm)
	}
	p := w.Pending
	made := fmt.Sprintf("the apply --confirm of %s (deadline %s)", p.Created.Format(time.DateTime), p.Deadline.Format(time.TimeOnly))
	switch {
	case w.WatchdogAlive:
		return fmt.Sprintf("%s is waiting for confirmation; its watchdog restores the previous ruleset and routes at %s, which would undo anything applied meanwhile. Run '%s' to keep it, or '%s --rollback' to put the previous state back now; then apply again.",
			made, p.Deadline.Format(time.TimeOnly), confirm, confirm)
	case w.Rebooted:
		return fmt.Sprintf("%s was never confirmed, and the host has rebooted since: its watchdog is gone, and the kernel holds what the boot loaded, not necessarily that apply's ruleset ('fwc plan%s POLICY' shows the difference). Run '%s --keep' to forget that apply, or '%s --rollback' to load the ruleset and routes saved before it (%s).",
			made, netnsFlag(netns), confirm, confirm, w.Path)
	case w.Overdue(now):
		return fmt.Sprintf("%s was never confirmed and never rolled back: its watchdog is not running (it was killed or crashed). The ruleset and routes that apply loaded are still in the kernel; the previous ones were not restored. Run '%s --keep' to keep what is loaded, or '%s --rollback' to restore the previous ruleset and routes (saved in %s).",
			made, confirm, confirm, w.Path)
	}
	return fmt.Sprintf("%s is waiting for confirmation, but its watchdog is not running (it was killed or crashed): nothing will roll it back at the deadline. The ruleset and routes that apply loaded are in the kernel. Run '%s' to keep them, or '%s --rollback' to restore the previous ones (saved in %s); then apply again.",
		made, confirm, confirm, w.Path)
}

// runWatchdog is `fwc confirm --watchdog TOKEN`, started by apply
// --confirm (apply.StartWatchdog) with the pending file as descriptor 3
// and the pipe to say it is armed as descriptor 4.
func runWatchdog(e *env, stateDir, netns, token string) error {
	w := &apply.Watchdog{Dir: stateDir, NetNS: netns, Token: token, File: os.NewFile(3, "pending"), Ready: os.NewFile(4, "ready")}
	o, err := w.Run()
	if o != nil {
		fmt.Fprintf(e.stdout, "%s watchdog %s: %s (deadline %s)\n", o.Decided.Format(time.RFC3339), o.Token, o.Action, o.Deadline.Format(time.RFC3339))
	}
	if err != nil {
		return &exitError{code: exitUnknown, err: fmt.Errorf("watchdog: %v", err)}
	}
	return nil
}
