package main

// `fwc import` links the readers and the converter, whose init functions
// register their diagnostic codes (FW3001-FW3299) for `fwc explain`.
import (
	_ "github.com/fwcproject/fwc/importer/convert"
)
