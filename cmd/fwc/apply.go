package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/apply"
	"github.com/fwcproject/fwc/backend/nft/batch"
	"github.com/fwcproject/fwc/diag"
)

// exitUnknown is apply's exit status when the kernel's state could not be
// established after a failure.
const exitUnknown = 3

func newApplyCmd(e *env) *cobra.Command {
	var (
		netns    string
		confirm  time.Duration
		dryRun   bool
		force    bool
		boot     bool
		quiet    bool
		stateDir string
		backend  string
	)
	cmd := &cobra.Command{
		Use:   "apply [--netns NAME] [--backend nft|iptables] [--confirm DURATION] [--dry-run] [--force] [--boot] PATH",
		Short: "Install a checked policy on this host in one atomic batch",
		Long: `Apply checks a policy, translates it and installs it in the running kernel:
fwc's nftables table "inet fwc" is replaced in one atomic transaction (no
other table is touched), then the ip rules and routes of the policy's
routes are installed (protocol 70, "ip rule show proto 70"). The plan is
printed first, as by "fwc plan".

If the ruleset changes between the moment apply reads it and the commit
(another program loaded rules), nothing is applied. If a routing change
fails, the routing changes made are undone and the previous table is put
back.

With --confirm DURATION, the previous table, ip rules and routes are saved
to --state-dir first, and a detached watchdog restores them when DURATION
has passed unless "fwc confirm" is run before: a policy that locks you out
undoes itself. apply fails, changing nothing, if the watchdog cannot start.

While an apply --confirm waits for confirmation in a namespace, another
apply there (with or without --confirm) is refused, since the watchdog
would undo it at the deadline: run "fwc confirm" (keep the waiting one) or
"fwc confirm --rollback" (restore the previous state now) first. If the
watchdog is no longer running (killed, or the host rebooted), apply says
so and what the kernel holds.

--state-dir must belong to the user running fwc and be writable by no one
else (root acts on what it finds there); apply refuses it otherwise.

When SSH_CONNECTION is set, apply works out what the new ruleset does to
that connection both ways (the client's packets through prerouting and
input, the server's replies through output and postrouting, every table,
with notrack and marks taken into account) and refuses a policy that would
drop either, or an SSH_CONNECTION it cannot read, unless --force is given
(--confirm alone does not get past the refusal).

With --boot (what the systemd unit runs early at boot, before the network
is configured), a routing change that fails, because a route's device or
gateway is not up yet, does not undo the table: the table is installed,
the routing is left as it was, a warning says so, and the exit status is
0. Run apply again once the network is up to install the routes (the unit
fwc-routes.service in contrib/systemd does).

--quiet prints neither the plan nor "Applied."; warnings and errors still
go to standard error, and with --confirm the line saying what to run
before the deadline is still printed.

--netns NAME works in the named network namespace (ip netns add NAME), or
in the one bound at a path, instead of the host's.

--backend iptables installs the policy with iptables-restore,
ip6tables-restore and ipset restore instead, for hosts whose other
programs (docker, kube-proxy) keep their rules in iptables:
iptables-legacy and iptables-nft pick the variant of the tools (iptables
alone: whichever the system's iptables-restore is). fwc's rules go to
chains of its own, named fwc-*, and each built-in chain the policy hooks
gets one rule jumping to fwc's chain of the same name (fwc-INPUT),
inserted first; built-in chains' policies and other rules are left alone.
fwc's chain drops what the policy drops by default, and a packet it does
not decide goes on through the others' rules. Only the tables whose fwc
part changes are restored, each in one commit (--noflush). The sets are
the policy's, under their names; dynamic ones keep the elements added at
run time. Plan, --confirm, the SSH check, --boot and rollback work the
same way, on fwc's chains and sets alone.

Exit status: 0 applied (or nothing to change), 1 refused or failed with
nothing applied (policy errors, lock-out, the ruleset changed meanwhile),
2 for usage or I/O problems, 3 when the kernel's state is unknown.`,
		Example: `  fwc apply host.fw
  fwc apply --confirm 30s host.fw && fwc confirm
  fwc apply --backend iptables --confirm 30s host.fw && fwc confirm
  fwc apply --dry-run --netns test host.fw`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("apply needs one PATH")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, paths []string) error {
			if cmd.Flags().Changed("confirm") && confirm <= 0 {
				return usagef("--confirm needs a positive duration, such as 30s")
			}
			c, w, h, plan, err := planFor(e, paths, netns, stateDir, backend, !dryRun)
			if errors.Is(err, errPolicyErrors) {
				return &exitError{code: exitFindings, err: fmt.Errorf("%w; nothing applied", errPolicyErrors)}
			}
			if err != nil {
				return err
			}
			defer h.Close()
			out := e.stdout
			if quiet {
				out = io.Discard
			}
			if err := plan.Write(out); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if plan.Empty() {
				return nil
			}
			coexist(e, h, w, c)
			if err := sshGuard(e, h, w, force); err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintln(out, "Dry run: nothing applied.")
				return nil
			}

			// The state directory as checked and made absolute by planFor.
			stateDir := h.Cache
			// The state directory's lock is held while applying: a rollback
			// due meanwhile (the watchdog takes the lock first) comes after
			// the whole apply, not between the table and the routing.
			var pending *apply.Pending
			var unlock func()
			if confirm > 0 {
				if pending, err = startConfirm(h, plan, stateDir, netns, confirm); err != nil {
					return err
				}
				if unlock, err = apply.Lock(stateDir); err != nil {
					_ = apply.Discard(stateDir, pending)
					return &exitError{code: exitUsage, err: fmt.Errorf("%v; nothing applied", err)}
				}
			} else {
				// A plain apply while an apply --confirm waits would be
				// undone by that apply's watchdog at its deadline: refused.
				unlock, err = apply.Idle(stateDir, netns)
				if errors.Is(err, apply.ErrPending) {
					return &exitError{code: exitFindings, err: fmt.Errorf("refusing to apply: %s", whatNow(pendingOf(err), netns, stateDir, time.Now()))}
				}
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			outcome, err := apply.Apply(h, plan, apply.Options{Boot: boot})
			unlock() // before Discard, which takes it
			if rd, ok := errors.AsType[*apply.RoutesDeferred](err); ok && outcome == batch.Applied {
				fmt.Fprintf(e.stderr, "fwc: warning: %v\n", rd)
			}
			switch outcome {
			case batch.Applied:
				if pending != nil {
					// Said even with --quiet: without it the apply undoes
					// itself.
					fmt.Fprintf(e.stdout, "Applied. Run '%s' before %s (within %s), or the previous ruleset and routes come back.\n",
						confirmCmd(netns, stateDir), pending.Deadline.Format(time.TimeOnly), confirm)
				} else {
					fmt.Fprintln(out, "Applied.")
				}
				return nil
			case batch.NotApplied:
				if pending != nil {
					_ = apply.Discard(stateDir, pending)
				}
				if errors.Is(err, apply.ErrGenerationChanged) {
					return &exitError{code: exitFindings, err: fmt.Errorf("nothing applied: the ruleset changed while apply was running (%v); run apply again", err)}
				}
				return &exitError{code: exitFindings, err: fmt.Errorf("nothing applied: %v", err)}
			}
			what := "run 'fwc plan" + netnsFlag(netns) + " " + paths[0] + "' to see what the kernel holds, then apply again"
			if pending != nil {
				what += fmt.Sprintf("; unless '%s' is run, the previous ruleset and routes come back at %s", confirmCmd(netns, stateDir), pending.Deadline.Format(time.TimeOnly))
			}
			return &exitError{code: exitUnknown, err: fmt.Errorf("the state of the kernel is unknown: %v\nWhat to do: %s", err, what)}
		},
	}
	f := cmd.Flags()
	f.StringVar(&netns, "netns", "", "work in the network `namespace` NAME (or at a path)")
	f.DurationVar(&confirm, "confirm", 0, "roll back after `DURATION` unless 'fwc confirm' is run")
	f.BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	f.BoolVar(&force, "force", false, "apply even if the SSH connection in use would be dropped")
	f.BoolVar(&quiet, "quiet", false, "print nothing but warnings and errors (and what --confirm needs)")
	f.BoolVar(&boot, "boot", false, "at boot: install the table even if the routes cannot be installed yet")
	addIncludeRootFlag(cmd, e)
	f.StringVar(&stateDir, "state-dir", apply.DefaultStateDir, "`directory` for the --confirm snapshot and the plan cache")
	addBackendFlag(cmd, &backend)
	return cmd
}

func netnsFlag(netns string) string {
	if netns == "" {
		return ""
	}
	return " --netns " + netns
}

// errPolicyErrors is planFor's error when the policy has errors (their
// diagnostics are printed).
var errPolicyErrors = errors.New("the policy has errors")

// planFor compiles the policy at paths and compares it with the kernel in
// netns, keeping its cache in stateDir (checked, and made absolute in the
// returned Host's Cache); with encode, the netlink batch is
// encoded meanwhile (see apply.Want.Encode). Errors are exitErrors.
func planFor(e *env, paths []string, netns, stateDir, backend string, encode bool) (*apply.Compiled, *apply.Want, *apply.Host, *apply.Plan, error) {
	variant, ipt, err := parseBackend(backend)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if _, err := os.Stat(paths[0]); err != nil {
		return nil, nil, nil, nil, &exitError{code: exitUsage, err: err}
	}
	stateDir, err = apply.CheckStateDir(stateDir)
	if err != nil {
		return nil, nil, nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--state-dir: %w", err)}
	}
	compileFn := apply.CompileWith
	if ipt {
		compileFn = apply.CompileIptables
	}
	c, ds, err := compileFn(paths, e.loadOptions())
	src := func(name string) []byte {
		if c == nil || c.Loaded == nil {
			return nil
		}
		return c.Loaded.Sources[name]
	}
	if rerr := diag.RenderText(e.stderr, ds, src, diag.TextOptions{Color: wantColor(e.stderr)}); rerr != nil {
		return nil, nil, nil, nil, &exitError{code: exitUsage, err: rerr}
	}
	switch {
	case err != nil:
		return nil, nil, nil, nil, &exitError{code: exitUsage, err: err}
	case ds.HasErrors():
		return nil, nil, nil, nil, &exitError{code: exitFindings, err: errPolicyErrors}
	}
	w := c.Want()
	if encode && !ipt {
		w.Encode()
	}
	h, err := apply.Open(netns)
	if err != nil {
		return nil, nil, nil, nil, &exitError{code: exitUsage, err: err}
	}
	h.Cache = stateDir
	if ipt {
		p, err := planIptables(e, c, h, w, variant)
		if err != nil {
			h.Close()
			return nil, nil, nil, nil, err
		}
		return c, w, h, p, nil
	}
	have, err := apply.Read(h)
	if err != nil {
		h.Close()
		return nil, nil, nil, nil, &exitError{code: exitUsage, err: err}
	}
	p, err := apply.NewPlan(have, w)
	if err != nil {
		h.Close()
		return nil, nil, nil, nil, &exitError{code: exitUsage, err: err}
	}
	return c, w, h, p, nil
}

// sshGuard refuses a policy that drops the SSH connection in use, in
// either direction. It fails closed: an SSH_CONNECTION it cannot read is a
// refusal too. --confirm does not get past it (the refusal comes first),
// so the advice names what does: --force, and what it costs.
func sshGuard(e *env, h *apply.Host, w *apply.Want, force bool) error {
	sc, set := os.LookupEnv("SSH_CONNECTION")
	if !set || sc == "" {
		return nil
	}
	const risk = "--force applies it anyway and this session will likely be cut; add --confirm DURATION with --force so that the previous ruleset comes back by itself when you cannot run 'fwc confirm'"
	conn, err := apply.ParseSSHConnection(sc)
	if err != nil {
		if !force {
			return &exitError{code: exitFindings, err: fmt.Errorf("refusing to apply: cannot check whether the policy cuts this SSH session: %v; nothing applied. Fix or unset SSH_CONNECTION, or: %s", err, risk)}
		}
		fmt.Fprintf(e.stderr, "fwc: warning: cannot check whether the policy cuts this SSH session: %v; applying anyway (--force)\n", err)
		return nil
	}
	fate, why := apply.SSHCheck(h, w.Ruleset, conn)
	peer := fmt.Sprintf("tcp from %s port %d to %s port %d", conn.Client, conn.ClientPort, conn.Server, conn.ServerPort)
	switch {
	case fate == apply.Dropped && !force:
		return &exitError{code: exitFindings, err: fmt.Errorf("refusing to apply: the policy drops this SSH connection (%s): %s; nothing applied. Let the connection through, or: %s", peer, why, risk)}
	case fate == apply.Dropped:
		fmt.Fprintf(e.stderr, "fwc: warning: the policy drops this SSH connection (%s): %s; applying anyway (--force)\n", peer, why)
	case fate == apply.Undecided:
		fmt.Fprintf(e.stderr, "fwc: warning: the policy may drop this SSH connection (%s), depending on %s; consider --confirm\n", peer, why)
	}
	return nil
}

// startConfirm saves the current state and starts the watchdog that
// restores it; dir is absolute.
func startConfirm(h *apply.Host, plan *apply.Plan, dir, netns string, d time.Duration) (*apply.Pending, error) {
	p, err := apply.Snapshot(dir, h, plan.Have, time.Now().Add(d))
	if err != nil {
		if errors.Is(err, apply.ErrPending) {
			return nil, &exitError{code: exitFindings, err: fmt.Errorf("refusing to apply: %s", whatNow(pendingOf(err), netns, dir, time.Now()))}
		}
		return nil, &exitError{code: exitFindings, err: fmt.Errorf("cannot save the snapshot for --confirm: %v; nothing applied", err)}
	}
	// The watchdog is this very binary (os.Executable: the kernel's
	// record, never a lookup in $PATH), under the name it was started by
	// (test harnesses that link the binary under another name dispatch on
	// it). Absolute paths only: the watchdog runs in "/".
	self, err := os.Executable()
	if err == nil {
		argv := []string{filepath.Base(os.Args[0]), "confirm", "--watchdog", p.Token, "--state-dir", p.Dir}
		if h.NetNS != "" {
			argv = append(argv, "--netns", h.NetNS)
		}
		_, err = apply.StartWatchdog(p, self, argv)
	}
	if err != nil {
		_ = apply.Discard(dir, p)
		return nil, &exitError{code: exitFindings, err: fmt.Errorf("cannot start the --confirm watchdog: %v; nothing applied", err)}
	}
	return p, nil
}

// pendingOf is what waits for confirmation, from a *apply.PendingError.
func pendingOf(err error) *apply.Waiting {
	if pe, ok := errors.AsType[*apply.PendingError](err); ok {
		return &pe.Waiting
	}
	return nil
}

// confirmCmd is the fwc confirm command line for a namespace and state
// directory.
func confirmCmd(netns, stateDir string) string {
	s := "fwc confirm" + netnsFlag(netns)
	if stateDir != apply.DefaultStateDir {
		s += " --state-dir " + stateDir
	}
	return s
}
