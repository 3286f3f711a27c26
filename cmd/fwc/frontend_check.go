package main

import (
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
)

// checkUnit checks one policy (a root file and its includes), lint passes
// included.
func checkUnit(files []*ast.File, opts check.Options) diag.Diagnostics {
	_, ds := check.Check(files, opts)
	return ds
}

// lintOptions builds check options from --backend and --severity values
// ("FW1201=error", "FW1001=off").
func lintOptions(backends, severity []string) (check.Options, error) {
	opts := check.Options{Backends: backends}
	for _, s := range severity {
		code, level, ok := strings.Cut(s, "=")
		code = strings.ToUpper(strings.TrimSpace(code))
		if !ok {
			return opts, usagef("--severity takes CODE=LEVEL, not %q", s)
		}
		if _, known := diag.Lookup(code); !known || code < "FW1000" || code > "FW1999" {
			return opts, usagef("--severity: %s is not a lint code (see fwc explain)", code)
		}
		if level == "off" {
			if opts.Disable == nil {
				opts.Disable = map[string]bool{}
			}
			opts.Disable[code] = true
			continue
		}
		sev, ok := diag.ParseSeverity(level)
		if !ok {
			return opts, usagef("--severity %s: level is error, warning, info or off, not %q", code, level)
		}
		if opts.Severity == nil {
			opts.Severity = map[string]diag.Severity{}
		}
		opts.Severity[code] = sev
	}
	return opts, nil
}
