package lsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/sourcegraph/jsonrpc2"
	"github.com/tliron/glsp"
	protocol "github.com/tliron/glsp/protocol_3_16"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/lang"
)

// Options are what `fwc lsp` passes on from its flags.
type Options struct {
	// Check are the lint options of `fwc check` (--backend, --severity).
	Check check.Options
	// IncludeRoots widen what includes may read, as --include-root does.
	IncludeRoots []string
	// Version is reported to the client as the server's version.
	Version string
}

// ErrNoShutdown is returned by Serve when the client sent exit, or went
// away, without asking for shutdown first; the protocol wants exit status
// 1 then.
var ErrNoShutdown = errors.New("lsp: exit without shutdown")

// Serve answers one client on rwc until it sends exit or closes the
// stream. Requests are handled one at a time, in the order they come, so
// that a change is checked before the next change is applied.
func Serve(ctx context.Context, rwc io.ReadWriteCloser, opts Options) error {
	s := newServer(opts)
	conn := jsonrpc2.NewConn(ctx, jsonrpc2.NewBufferedStream(rwc, jsonrpc2.VSCodeObjectCodec{}), jsonrpc2.HandlerWithError(s.handle))
	select {
	case <-conn.DisconnectNotify():
	case <-ctx.Done():
		conn.Close()
		return ctx.Err()
	}
	if !s.shutdown {
		return ErrNoShutdown
	}
	return nil
}

type server struct {
	opts     Options
	h        protocol.Handler
	docs     map[string]*document // open documents by URI
	shutdown bool
	// published holds, for each document checked, the URIs its last check
	// published diagnostics for, so that the next check clears those that
	// have none left (an include fixed, a finding gone from another file).
	published map[string][]string
}

// document is an open text document and what its last check found.
type document struct {
	uri     string
	path    string // absolute; "" for a URI that is not a file
	version int32
	text    []byte
	// files are the syntax trees of the document's policy (it and what it
	// includes), for definitions; diags are its own findings, for hover.
	files []*ast.File
	diags []*diag.Diagnostic
}

func newServer(opts Options) *server {
	s := &server{opts: opts, docs: map[string]*document{}, published: map[string][]string{}}
	s.h = protocol.Handler{
		Initialize: s.initialize,
		Initialized: func(*glsp.Context, *protocol.InitializedParams) error {
			return nil
		},
		Shutdown: func(*glsp.Context) error {
			s.shutdown = true
			return nil
		},
		Exit:     func(*glsp.Context) error { return nil },
		SetTrace: func(*glsp.Context, *protocol.SetTraceParams) error { return nil },

		TextDocumentDidOpen:    s.didOpen,
		TextDocumentDidChange:  s.didChange,
		TextDocumentDidSave:    s.didSave,
		TextDocumentDidClose:   s.didClose,
		TextDocumentFormatting: s.formatting,
		TextDocumentHover:      s.hover,
		TextDocumentDefinition: s.definition,
		WorkspaceDidChangeWatchedFiles: func(ctx *glsp.Context, _ *protocol.DidChangeWatchedFilesParams) error {
			s.recheckAll(ctx)
			return nil
		},
	}
	return s
}

// handle turns one JSON-RPC message into a call of the protocol handler,
// the way glsp's own server does, over a stream of our choosing (glsp's
// takes only the process's standard input and output).
func (s *server) handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
	gctx := &glsp.Context{
		Method: req.Method,
		Notify: func(method string, params any) { _ = conn.Notify(ctx, method, params) },
		Call:   func(method string, params, result any) { _ = conn.Call(ctx, method, params, result) },
	}
	if req.Params != nil {
		gctx.Params = *req.Params
	}
	r, validMethod, validParams, err := s.h.Handle(gctx)
	switch {
	case req.Method == protocol.MethodExit:
		return nil, conn.Close()
	case !validMethod:
		if req.Notif {
			// Unknown notifications ($/cancelRequest of a request
			// already answered, …) are ignored, as the protocol says.
			return nil, nil
		}
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "method not supported: " + req.Method}
	case !validParams:
		msg := "invalid parameters"
		if err != nil {
			msg = err.Error()
		}
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: msg}
	case err != nil:
		return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidRequest, Message: err.Error()}
	}
	return r, nil
}

func (s *server) initialize(_ *glsp.Context, _ *protocol.InitializeParams) (any, error) {
	change := protocol.TextDocumentSyncKindIncremental
	yes := true
	return protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: protocol.TextDocumentSyncOptions{
				OpenClose: &yes,
				Change:    &change,
				Save:      protocol.SaveOptions{IncludeText: &yes},
			},
			HoverProvider:              true,
			DefinitionProvider:         true,
			DocumentFormattingProvider: true,
		},
		ServerInfo: &protocol.InitializeResultServerInfo{Name: "fwc", Version: &s.opts.Version},
	}, nil
}

func (s *server) didOpen(ctx *glsp.Context, p *protocol.DidOpenTextDocumentParams) error {
	d := &document{uri: p.TextDocument.URI, path: uriPath(p.TextDocument.URI), version: p.TextDocument.Version, text: []byte(p.TextDocument.Text)}
	s.docs[d.uri] = d
	s.recheckAll(ctx)
	return nil
}

func (s *server) didChange(ctx *glsp.Context, p *protocol.DidChangeTextDocumentParams) error {
	d, ok := s.docs[p.TextDocument.URI]
	if !ok {
		return fmt.Errorf("%s is not open", p.TextDocument.URI)
	}
	for _, c := range p.ContentChanges {
		switch c := c.(type) {
		case protocol.TextDocumentContentChangeEventWhole:
			d.text = []byte(c.Text)
		case protocol.TextDocumentContentChangeEvent:
			start, end := offset(d.text, c.Range.Start), offset(d.text, c.Range.End)
			if end < start {
				return fmt.Errorf("change range ends before it starts")
			}
			d.text = append(d.text[:start:start], append([]byte(c.Text), d.text[end:]...)...)
		}
	}
	d.version = p.TextDocument.Version
	// Other open documents may include this one: check them all.
	s.recheckAll(ctx)
	return nil
}

func (s *server) didSave(ctx *glsp.Context, p *protocol.DidSaveTextDocumentParams) error {
	if d, ok := s.docs[p.TextDocument.URI]; ok && p.Text != nil {
		d.text = []byte(*p.Text)
	}
	s.recheckAll(ctx)
	return nil
}

func (s *server) didClose(ctx *glsp.Context, p *protocol.DidCloseTextDocumentParams) error {
	delete(s.docs, p.TextDocument.URI)
	// Its findings go with it; files it included that another open
	// document includes are published again by recheckAll.
	for _, u := range s.published[p.TextDocument.URI] {
		ctx.Notify(protocol.ServerTextDocumentPublishDiagnostics, protocol.PublishDiagnosticsParams{URI: u, Diagnostics: []protocol.Diagnostic{}})
	}
	delete(s.published, p.TextDocument.URI)
	s.recheckAll(ctx)
	return nil
}

// recheckAll checks every open document. A policy is a few files and a
// check takes milliseconds, so this is simpler and never stale, unlike
// tracking who includes whom.
func (s *server) recheckAll(ctx *glsp.Context) {
	for _, d := range s.docs {
		s.check(ctx, d)
	}
}

// check loads and checks d's policy as `fwc check PATH` does, reading
// every open document from the editor, and publishes the findings by file.
func (s *server) check(ctx *glsp.Context, d *document) {
	var ds diag.Diagnostics
	var sources map[string][]byte
	d.files = nil
	if d.path == "" {
		// Not a file (an unsaved "untitled:" buffer): no includes.
		f, pds := lang.ParseFile(d.uri, d.text)
		ds = pds
		sources = map[string][]byte{d.uri: d.text}
		if f != nil && !pds.HasErrors() {
			d.files = []*ast.File{f}
			_, cds := compile.Check(d.files, s.opts.Check)
			ds = append(ds, cds...)
		}
	} else {
		overlay := map[string][]byte{}
		for _, o := range s.docs {
			if o.path != "" {
				overlay[o.path] = o.text
			}
		}
		l, lds := compile.Load([]string{d.path}, compile.LoadOptions{IncludeRoots: s.opts.IncludeRoots, Overlay: overlay})
		ds = lds
		if l != nil {
			sources = l.Sources
			for _, u := range l.Units {
				d.files = append(d.files, u.Files...)
				_, uds := compile.Check(u.Files, s.opts.Check)
				ds = append(ds, uds...)
			}
		}
	}

	byURI := map[string][]protocol.Diagnostic{d.uri: {}}
	for _, f := range d.files {
		byURI[s.fileURI(f.Filename, d)] = []protocol.Diagnostic{}
	}
	d.diags = nil
	for _, x := range ds.Sort() {
		u := s.fileURI(x.Subject.Filename, d)
		if u == d.uri {
			d.diags = append(d.diags, x)
		}
		byURI[u] = append(byURI[u], s.toDiagnostic(x, sources, d))
	}
	for _, u := range s.published[d.uri] {
		if _, ok := byURI[u]; !ok {
			byURI[u] = []protocol.Diagnostic{}
		}
	}
	s.published[d.uri] = s.published[d.uri][:0]
	for u, list := range byURI {
		p := protocol.PublishDiagnosticsParams{URI: u, Diagnostics: list}
		if u == d.uri {
			v := protocol.UInteger(d.version)
			p.Version = &v
		}
		ctx.Notify(protocol.ServerTextDocumentPublishDiagnostics, p)
		if len(list) > 0 {
			s.published[d.uri] = append(s.published[d.uri], u)
		}
	}
}

// fileURI maps a filename in a diagnostic range (relative to the working
// directory, as lang prints it) back to a URI; an empty one is the
// document checked.
func (s *server) fileURI(name string, d *document) string {
	if name == "" || name == d.uri {
		return d.uri
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return d.uri
	}
	if abs == d.path {
		return d.uri
	}
	for _, o := range s.docs {
		if o.path == abs {
			return o.uri
		}
	}
	return (&url.URL{Scheme: "file", Path: abs}).String()
}

// text returns the text a diagnostic's file had when it was checked.
func textOf(name string, sources map[string][]byte, d *document) []byte {
	if t, ok := sources[name]; ok {
		return t
	}
	if name == "" {
		return d.text
	}
	return nil
}

func (s *server) toDiagnostic(x *diag.Diagnostic, sources map[string][]byte, d *document) protocol.Diagnostic {
	sev := map[diag.Severity]protocol.DiagnosticSeverity{
		diag.Error:   protocol.DiagnosticSeverityError,
		diag.Warning: protocol.DiagnosticSeverityWarning,
		diag.Info:    protocol.DiagnosticSeverityInformation,
	}[x.Severity]
	source := "fwc"
	msg := x.Summary
	if x.Detail != "" {
		msg += "\n" + x.Detail
	}
	out := protocol.Diagnostic{
		Range:    toRange(textOf(x.Subject.Filename, sources, d), x.Subject),
		Severity: &sev,
		Code:     &protocol.IntegerOrString{Value: x.Code},
		Source:   &source,
		Message:  msg,
	}
	for _, r := range x.Related {
		out.RelatedInformation = append(out.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{URI: s.fileURI(r.Range.Filename, d), Range: toRange(textOf(r.Range.Filename, sources, d), r.Range)},
			Message:  r.Message,
		})
	}
	return out
}

// uriPath returns the absolute path of a file: URI, or "".
func uriPath(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" || u.Path == "" {
		return ""
	}
	return filepath.Clean(u.Path)
}

func (s *server) formatting(_ *glsp.Context, p *protocol.DocumentFormattingParams) ([]protocol.TextEdit, error) {
	d, ok := s.docs[p.TextDocument.URI]
	if !ok {
		return nil, fmt.Errorf("%s is not open", p.TextDocument.URI)
	}
	f, ds := lang.ParseFile(d.uri, d.text)
	if f == nil || ds.HasErrors() {
		// As `fwc fmt`: a file with syntax errors is left alone; the
		// errors are already shown as diagnostics.
		return nil, nil
	}
	out := lang.Format(f)
	if string(out) == string(d.text) {
		return []protocol.TextEdit{}, nil
	}
	return []protocol.TextEdit{{
		Range:   protocol.Range{Start: protocol.Position{}, End: endOf(d.text)},
		NewText: string(out),
	}}, nil
}

// wordAt returns the word (lexer's Word characters) around byte offset
// off, its start, and the sigil before it ('@', '$' or 0).
func wordAt(text []byte, off int) (word string, start int, sigil byte) {
	isWord := func(c byte) bool {
		return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	start, end := off, off
	for start > 0 && isWord(text[start-1]) {
		start--
	}
	for end < len(text) && isWord(text[end]) {
		end++
	}
	word = strings.Trim(string(text[start:end]), ".-")
	if start > 0 && (text[start-1] == '@' || text[start-1] == '$') {
		sigil = text[start-1]
	}
	return word, start, sigil
}

func (s *server) hover(_ *glsp.Context, p *protocol.HoverParams) (*protocol.Hover, error) {
	d, ok := s.docs[p.TextDocument.URI]
	if !ok {
		return nil, nil
	}
	pos := p.Position
	off := offset(d.text, pos)
	var parts []string
	// The findings under the cursor, with their explain text.
	for _, x := range d.diags {
		r := toRange(d.text, x.Subject)
		if inRange(pos, r) {
			parts = append(parts, explain(x.Code, x.Summary))
		}
	}
	word, _, sigil := wordAt(d.text, off)
	if code := strings.ToUpper(word); len(parts) == 0 && strings.HasPrefix(code, "FW") {
		if _, ok := diag.Lookup(code); ok {
			parts = append(parts, explain(code, ""))
		}
	}
	if len(parts) == 0 && word != "" {
		if decl := findDecl(d.files, word, sigil); decl != nil {
			parts = append(parts, "```fwc\n"+strings.TrimSpace(firstLine(s.sourceOf(decl.Span().Filename, d), decl.Span()))+"\n```")
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return &protocol.Hover{Contents: protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: strings.Join(parts, "\n\n---\n\n")}}, nil
}

func inRange(p protocol.Position, r protocol.Range) bool {
	before := func(a, b protocol.Position) bool {
		return a.Line < b.Line || a.Line == b.Line && a.Character <= b.Character
	}
	return before(r.Start, p) && before(p, r.End)
}

// explain is the `fwc explain` text of code, in Markdown.
func explain(code, summary string) string {
	doc, ok := diag.Lookup(code)
	if !ok {
		return "**" + code + "** " + summary
	}
	head := fmt.Sprintf("**%s**: %s (%s)", doc.Code, doc.Title, doc.Severity)
	if summary != "" {
		head = summary + "\n\n" + head
	}
	if doc.Doc != "" {
		head += "\n\n" + doc.Doc
	}
	return head
}

// sourceOf returns the current text of a file named in a range: an open
// document's buffer, or the file on disk.
func (s *server) sourceOf(name string, d *document) []byte {
	u := s.fileURI(name, d)
	if o, ok := s.docs[u]; ok {
		return o.text
	}
	b, err := lang.ReadFile(name)
	if err != nil {
		return nil
	}
	return b
}

func firstLine(text []byte, r interface{ Span() diag.Range }) string {
	sp := r.Span()
	if text == nil || sp.Start.Line == 0 {
		return ""
	}
	start := lineStart(text, sp.Start.Line-1)
	end := start
	for end < len(text) && text[end] != '\n' {
		end++
	}
	return string(text[start:end])
}

// findDecl returns the declaration of name among files: a set for @name,
// a define for $name, and otherwise a zone, service, chain, route,
// balance or set of that name, the first written.
func findDecl(files []*ast.File, name string, sigil byte) ast.Node {
	var found ast.Node
	take := func(id ast.Ident, kind byte) {
		if found == nil && id.Name == name && (sigil == kind || sigil == 0 && kind != '$') {
			found = id
		}
	}
	for _, f := range files {
		for _, dcl := range f.Decls {
			switch x := dcl.(type) {
			case *ast.Zone:
				take(x.Name, 0)
			case *ast.Service:
				take(x.Name, 0)
			case *ast.Set:
				take(x.Name, '@')
			case *ast.Define:
				take(x.Name, '$')
			case *ast.Route:
				take(x.Name, 0)
			case *ast.Balance:
				take(x.Name, 0)
			case *ast.Table:
				for _, c := range x.Chains {
					take(c.Name, 0)
				}
			}
		}
	}
	return found
}

func (s *server) definition(_ *glsp.Context, p *protocol.DefinitionParams) (any, error) {
	d, ok := s.docs[p.TextDocument.URI]
	if !ok {
		return nil, nil
	}
	word, _, sigil := wordAt(d.text, offset(d.text, p.Position))
	n := findDecl(d.files, word, sigil)
	if n == nil {
		return nil, nil
	}
	r := n.Span()
	return protocol.Location{URI: s.fileURI(r.Filename, d), Range: toRange(s.sourceOf(r.Filename, d), r)}, nil
}
