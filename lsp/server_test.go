package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// client speaks to a Serve over pipes with real LSP framing
// (Content-Length headers and JSON-RPC 2.0 bodies), as an editor does.
type client struct {
	t    *testing.T
	w    io.WriteCloser
	in   chan message // everything the server sends, read as it comes
	id   int
	done chan error
	// notes holds notifications read while waiting for a response.
	notes []message
}

type message struct {
	ID     *int            `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type pipes struct {
	io.Reader
	io.Writer
}

func (p pipes) Close() error { return p.Writer.(io.Closer).Close() }

func start(t *testing.T) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, w: inW, in: make(chan message, 1000), done: make(chan error, 1)}
	go func() {
		c.done <- Serve(context.Background(), pipes{inR, outW}, Options{Version: "test"})
		outW.Close()
	}()
	// Read while writing, as an editor does: the pipes hold nothing, and
	// the server may be publishing while the client sends.
	go func() {
		defer close(c.in)
		r := bufio.NewReader(outR)
		for {
			m, err := readMessage(r)
			if err != nil {
				return
			}
			c.in <- m
		}
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() message {
	c.t.Helper()
	m, ok := <-c.in
	if !ok {
		c.t.Fatal("the server closed its output")
	}
	return m
}

func readMessage(r *bufio.Reader) (message, error) {
	n := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return message{}, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	if n < 0 {
		return message{}, fmt.Errorf("message without Content-Length")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return message{}, fmt.Errorf("%v in %s", err, body)
	}
	return m, nil
}

func (c *client) notify(method string, params any) {
	c.send(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// call sends a request and returns its response, keeping notifications
// that come first.
func (c *client) call(method string, params any) message {
	c.t.Helper()
	c.id++
	c.send(map[string]any{"jsonrpc": "2.0", "id": c.id, "method": method, "params": params})
	for {
		m := c.read()
		if m.ID != nil && m.Method == "" {
			if *m.ID != c.id {
				c.t.Fatalf("response to %d, want %d", *m.ID, c.id)
			}
			return m
		}
		c.notes = append(c.notes, m)
	}
}

type publish struct {
	URI         string `json:"uri"`
	Version     *int   `json:"version"`
	Diagnostics []struct {
		Range    lspRange `json:"range"`
		Severity int      `json:"severity"`
		Code     string   `json:"code"`
		Source   string   `json:"source"`
		Message  string   `json:"message"`
	} `json:"diagnostics"`
}

type lspPos struct {
	Line      int `json:"line"`
	Character int `json:"character"`
}

type lspRange struct {
	Start lspPos `json:"start"`
	End   lspPos `json:"end"`
}

// diagnostics returns the last diagnostics published for uri: it makes a
// round trip (a hover request) so that every notification the server sent
// before is read — the server handles messages in order.
func (c *client) diagnostics(uri string) publish {
	c.t.Helper()
	c.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": lspPos{}})
	var last *publish
	for _, m := range c.notes {
		if m.Method != "textDocument/publishDiagnostics" {
			continue
		}
		var p publish
		if err := json.Unmarshal(m.Params, &p); err != nil {
			c.t.Fatal(err)
		}
		if p.URI == uri {
			last = &p
		}
	}
	c.notes = nil
	if last == nil {
		c.t.Fatalf("no diagnostics published for %s", uri)
	}
	return *last
}

func fileURI(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }

func TestServer(t *testing.T) {
	dir := t.TempDir()
	zones := filepath.Join(dir, "zones.fw")
	if err := os.WriteFile(zones, []byte("zone lan { iface eth1 }\nzone wan { iface eth0 }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.fw")
	uri := fileURI(main)
	// Line 4 (0-based 3) has "é" (2 bytes, 1 UTF-16 unit) and "😀" (4
	// bytes, 2 units) before the unknown zone: byte column 51, UTF-16
	// character 47.
	text := "include \"zones.fw\"\nservice web = tcp/80\n\nfrom lan to self log prefix \"é😀\" accept; from lna to wan service web accept\n"

	c := start(t)
	init := c.call("initialize", map[string]any{"processId": nil, "rootUri": fileURI(dir), "capabilities": map[string]any{}})
	if init.Error != nil {
		t.Fatalf("initialize: %+v", init.Error)
	}
	var caps struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
	}
	json.Unmarshal(init.Result, &caps)
	for _, k := range []string{"textDocumentSync", "hoverProvider", "definitionProvider", "documentFormattingProvider"} {
		if _, ok := caps.Capabilities[k]; !ok {
			t.Errorf("initialize result lacks %s: %s", k, init.Result)
		}
	}
	c.notify("initialized", map[string]any{})

	// The main file is not on disk: only the editor has it.
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "fwc", "version": 1, "text": text}})
	p := c.diagnostics(uri)
	if len(p.Diagnostics) != 1 {
		t.Fatalf("diagnostics: %+v", p.Diagnostics)
	}
	d := p.Diagnostics[0]
	if want := (lspRange{lspPos{3, 47}, lspPos{3, 50}}); d.Range != want || d.Code != "FW0102" || d.Severity != 1 || d.Source != "fwc" ||
		!strings.HasPrefix(d.Message, `unknown zone "lna"; did you mean "lan"?`) || p.Version == nil || *p.Version != 1 {
		t.Errorf("diagnostic = %+v (version %v), want FW0102 error at %v", d, p.Version, want)
	}

	// Hover over the finding: the explain text of its code.
	h := c.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": lspPos{3, 48}})
	if !strings.Contains(string(h.Result), "FW0102") {
		t.Errorf("hover on the finding: %s", h.Result)
	}
	// Go to the definition of lan, in the included file.
	def := c.call("textDocument/definition", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": lspPos{3, 6}})
	var loc struct {
		URI   string   `json:"uri"`
		Range lspRange `json:"range"`
	}
	json.Unmarshal(def.Result, &loc)
	if loc.URI != fileURI(zones) || loc.Range != (lspRange{lspPos{0, 5}, lspPos{0, 8}}) {
		t.Errorf("definition of lan = %s", def.Result)
	}
	c.notes = nil

	// An incremental change, in UTF-16 positions, fixes the typo: the
	// finding goes away.
	c.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 2},
		"contentChanges": []any{map[string]any{"range": lspRange{lspPos{3, 47}, lspPos{3, 50}}, "text": "lan"}},
	})
	if p := c.diagnostics(uri); len(p.Diagnostics) != 0 || *p.Version != 2 {
		t.Fatalf("after the fix: %+v", p)
	}

	// Formatting: the layout of fwc fmt, as one edit of the whole text.
	f := c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": uri}, "options": map[string]any{"tabSize": 4, "insertSpaces": true}})
	var edits []struct {
		Range   lspRange `json:"range"`
		NewText string   `json:"newText"`
	}
	if err := json.Unmarshal(f.Result, &edits); err != nil || len(edits) != 1 {
		t.Fatalf("formatting: %s %v", f.Result, f.Error)
	}
	if e := edits[0]; e.Range != (lspRange{lspPos{0, 0}, lspPos{4, 0}}) || !strings.Contains(e.NewText, "accept\nfrom lan to wan service web accept\n") {
		t.Errorf("formatting edit = %+v", e)
	}

	// The included file opened and broken in the editor: main.fw's check
	// reads it from the editor too.
	zuri := fileURI(zones)
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": zuri, "languageId": "fwc", "version": 1, "text": "zone wan { iface eth0 }\n"}})
	// (Both rules now name an unknown zone; like fwc check, one error per
	// line and code is shown.)
	if p := c.diagnostics(uri); len(p.Diagnostics) != 1 || p.Diagnostics[0].Code != "FW0102" || p.Diagnostics[0].Range.Start != (lspPos{3, 5}) {
		t.Errorf("main.fw with lan gone from zones.fw: %+v", p.Diagnostics)
	}

	if r := c.call("shutdown", nil); r.Error != nil {
		t.Fatalf("shutdown: %+v", r.Error)
	}
	c.notify("exit", nil)
	if err := <-c.done; err != nil {
		t.Fatalf("Serve after shutdown and exit: %v", err)
	}
}

// Exit without shutdown is an error (the process exits 1).
func TestExitWithoutShutdown(t *testing.T) {
	c := start(t)
	c.call("initialize", map[string]any{"processId": nil, "capabilities": map[string]any{}})
	c.notify("exit", nil)
	if err := <-c.done; err != ErrNoShutdown {
		t.Fatalf("Serve = %v, want ErrNoShutdown", err)
	}
}
