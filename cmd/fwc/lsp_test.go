package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// fwc lsp exits 0 after shutdown and exit, 1 when the client goes away
// without shutdown (as the protocol asks), and accepts the --stdio that
// VS Code's client adds.
func TestLSPCommandExit(t *testing.T) {
	frame := func(msgs ...string) string {
		var b strings.Builder
		for _, m := range msgs {
			fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(m), m)
		}
		return b.String()
	}
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"capabilities":{}}}`
	shutdown := `{"jsonrpc":"2.0","id":2,"method":"shutdown"}`
	exit := `{"jsonrpc":"2.0","method":"exit"}`
	for _, tc := range []struct {
		name, in string
		want     int
	}{
		{"shutdown then exit", frame(initialize, shutdown, exit), exitOK},
		{"exit alone", frame(initialize, exit), exitFindings},
		{"stream closed", frame(initialize), exitFindings},
	} {
		var stdout, stderr bytes.Buffer
		if got := run([]string{"lsp", "--stdio"}, strings.NewReader(tc.in), &stdout, &stderr); got != tc.want {
			t.Errorf("%s: exit %d, want %d; stderr %s", tc.name, got, tc.want, stderr.String())
		}
		if !strings.Contains(stdout.String(), `"serverInfo":{"name":"fwc"`) {
			t.Errorf("%s: no initialize result in %q", tc.name, stdout.String())
		}
	}
}
