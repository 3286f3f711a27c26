package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fwcproject/fwc/apply"
)

func newStatusCmd(e *env) *cobra.Command {
	var (
		netns, stateDir string
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "status [--netns NAME] [--json]",
		Short: "Show what fwc has installed: table, last apply, confirmation, sets",
		Long: `Status shows what fwc has installed in the running kernel, in one screen:
whether fwc's table "inet fwc" is there; whether it is still what the last
apply recorded in --state-dir made (unchanged: the ruleset generation has
not moved; same: it has, but the table digests as apply left it, elements
added at run time to dynamic sets aside; changed; unknown: no record, or a
table too large to digest); when that apply ran; whether an apply
--confirm waits for confirmation; and the element count of each named set.
It changes nothing. --json prints the same as one JSON object.

Exit status: 0 when the table is installed, is what the last apply made
(unchanged or same) and nothing waits for confirmation; 1 otherwise (no
table, changed or unknown, or an apply waiting); 2 on usage or I/O
problems.`,
		Example: `  fwc status
  fwc status --netns test --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := apply.CheckStateDir(stateDir)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("--state-dir: %w", err)}
			}
			h, err := apply.Open(netns)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			defer h.Close()
			h.Cache = dir
			st, err := apply.ReadStatus(h)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			} else {
				writeStatus(e, st)
			}
			if !st.Table || (st.Match != "unchanged" && st.Match != "same") || st.Waiting != nil {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&netns, "netns", "", "work in the network `namespace` NAME (or at a path)")
	f.StringVar(&stateDir, "state-dir", apply.DefaultStateDir, "`directory` where apply keeps its record")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeStatus(e *env, st *apply.Status) {
	w := e.stdout
	if !st.Table {
		fmt.Fprintln(w, "table:     inet fwc is not installed")
	} else {
		fmt.Fprintln(w, "table:     inet fwc installed")
	}
	switch {
	case !st.Recorded:
		fmt.Fprintln(w, "last apply: no record in the state directory")
	case st.Applied.IsZero():
		fmt.Fprintf(w, "last apply: script sha256 %s\n", st.Sum)
	default:
		fmt.Fprintf(w, "last apply: %s, script sha256 %s\n", st.Applied.Format(time.RFC3339), st.Sum)
	}
	what := map[string]string{
		"unchanged": "unchanged since the last apply",
		"same":      "as the last apply made it (the ruleset changed elsewhere)",
		"changed":   "CHANGED since the last apply",
		"unknown":   "unknown (no record, or too large to digest)",
	}[st.Match]
	fmt.Fprintf(w, "kernel:    generation %d, table %s\n", st.Generation, what)
	if st.Waiting == nil {
		fmt.Fprintln(w, "confirm:   nothing waits for confirmation")
	} else {
		state := "waiting"
		switch {
		case st.Waiting.Unreadable != nil:
			state = "unreadable snapshot: " + st.Waiting.Unreadable.Error()
		case st.Waiting.Rebooted:
			state = "waiting, but the host rebooted since"
		case !st.Waiting.WatchdogAlive:
			state = "waiting, but its watchdog is not running"
		case st.Waiting.Pending != nil:
			state = "waiting until " + st.Waiting.Pending.Deadline.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "confirm:   an apply --confirm is %s\n", state)
	}
	for _, s := range st.Sets {
		kind := ""
		if s.Dynamic {
			kind = " (dynamic)"
		}
		fmt.Fprintf(w, "set:       %s%s: %d elements\n", s.Name, kind, s.Elements)
	}
}
