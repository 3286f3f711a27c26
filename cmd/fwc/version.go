package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at link time by release builds (scripts/deb.sh):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=HASH -X main.date=2026-01-02T03:04:05Z"
//
// Empty means "ask the build info". A release build sets them because a
// build from a source tarball has no VCS to record, and a packager's
// version (1.2.3-1) is not the module's.
var version, commit, date string

// buildInfo is what "fwc version" reports.
type buildInfo struct {
	version string // module version, or "(devel)"
	commit  string // VCS revision, "" when unknown
	date    string // the revision's commit time (RFC 3339), "" when unknown
	// modified: the build was made from a working tree with changes not
	// committed, so commit alone does not name the source.
	modified bool
}

// readBuildInfo merges the link-time values over what the Go toolchain
// recorded: the module version that "go install module@version" stamps
// (or, since Go 1.24, the pseudo-version "go build" derives from the VCS),
// and vcs.revision, vcs.time and vcs.modified, which "go build" records in
// a checkout. vcs.time is the commit's time, not the build's: the date is
// thus the same for every build of one commit, as reproducible builds need.
func readBuildInfo() buildInfo {
	var b buildInfo
	if info, ok := debug.ReadBuildInfo(); ok {
		b.version = info.Main.Version
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.commit = s.Value
			case "vcs.time":
				b.date = s.Value
			case "vcs.modified":
				b.modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		b.version = version
	}
	if commit != "" {
		// A release build names its commit; what the toolchain saw of
		// the tree it was built from says nothing about that commit.
		b.commit, b.modified = commit, false
	}
	if date != "" {
		b.date = date
	}
	if b.version == "" {
		b.version = "(devel)"
	}
	return b
}

// fwcVersion is the one-word version: the man pages' footer, SARIF's
// tool version.
func fwcVersion() string { return readBuildInfo().version }

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print fwc's version, commit and build date",
		Long: `Version prints fwc's module version, the commit it was built from (with
"modified" when the working tree had changes not committed) and that
commit's date, then the Go version and platform. The first line is
always "fwc VERSION".

A release build sets them with -ldflags:
  -X main.version=v1.2.3 -X main.commit=HASH -X main.date=2026-01-02T03:04:05Z
otherwise they come from the build information the Go toolchain records
("go install ...@v1.2.3" records the version, "go build" in a git
checkout the commit and its date); what is not known is said so.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b := readBuildInfo()
			fmt.Fprintf(e.stdout, "fwc %s\n", b.version)
			c, d := b.commit, b.date
			if c == "" {
				c = "unknown"
			} else if b.modified {
				c += " (modified)"
			}
			if d == "" {
				d = "unknown"
			}
			fmt.Fprintf(e.stdout, "commit: %s\ndate:   %s\ngo:     %s %s/%s\n", c, d, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
