package check

import "github.com/fwcproject/fwc/diag"

// suggest is diag.Suggest, the one "did you mean" of fwc's diagnostics.
func suggest(name string, candidates []string) string { return diag.Suggest(name, candidates) }
