package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestTraceREADME: the README's trace example is what fwc trace prints.
func TestTraceREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "$ fwc trace examples/gateway.fw "
	_, block, ok := strings.Cut(string(readme), "```console\n"+cmd)
	if !ok {
		t.Fatal("README has no fwc trace example")
	}
	block, _, _ = strings.Cut(block, "```")
	quoted, want, _ := strings.Cut(block, "\n")
	packet := strings.Trim(quoted, "'")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"trace", "../../examples/gateway.fw", packet}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got := strings.ReplaceAll(stdout.String(), "../../examples/", "examples/")
	if got != want {
		t.Errorf("README:\n%s\nfwc trace prints:\n%s", want, got)
	}
}
