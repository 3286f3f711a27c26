package main

import (
	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/diag"
)

// checkUnit checks one policy (a root file and its includes) for the given
// backends, lint passes included.
func checkUnit(files []*ast.File, backends []string) diag.Diagnostics {
	_, ds := check.Check(files, check.Options{Backends: backends})
	return ds
}
