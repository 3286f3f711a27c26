// Package lsp is fwc's language server (`fwc lsp`): it speaks the Language
// Server Protocol over one stream (standard input and output) and gives
// editors what `fwc check`, `fwc fmt` and `fwc explain` give the command
// line:
//
//   - diagnostics when a document is opened, changed or saved, from the same
//     load and check (package compile) as `fwc check`, with the same codes;
//     the document is checked with what it includes, and every open
//     document is read from the editor's buffer, saved or not;
//   - formatting, the layout of `fwc fmt`;
//   - hover: the `fwc explain` text of a diagnostic under the cursor or of
//     a code written in a comment (`# fwc:ignore FW1201 ...`), and the
//     declaration of a name;
//   - go to definition of zones, services, sets (@name), defines ($name),
//     chains, routes and balances.
//
// Positions: fwc counts columns in bytes (package diag), LSP in UTF-16 code
// units by default; this package converts both ways (position.go), so a
// line with accents or emoji before a finding is still underlined at the
// right place.
//
// It sits after compile in the pipeline and before cmd/fwc, which only
// parses flags. The protocol types and dispatch come from
// github.com/tliron/glsp (protocol 3.16), the JSON-RPC framing from
// github.com/sourcegraph/jsonrpc2, which glsp is built on.
package lsp
