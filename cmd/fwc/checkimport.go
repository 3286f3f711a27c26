package main

// fwc check on rulesets that are not fwc policies (rules.v4, an
// nftables.conf, the live kernel): they go through the importer, the
// imported policy is checked, and what the checker says of a line of the
// imported policy is said of the input line it came from.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/check"
	"github.com/fwcproject/fwc/compile"
	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/convert"
	"github.com/fwcproject/fwc/lang"
)

// importedName names the imported policy in diagnostics that have no
// place in the input (an internal error of the importer).
const importedName = "(imported policy)"

// isImportPath tells whether a path given to check is a ruleset to import
// rather than a policy: a regular file not named *.fw whose content is
// iptables-save, ipset, nft or nft JSON text (or any file with --from).
func isImportPath(p string, force convert.Format) bool {
	if strings.HasSuffix(p, ".fw") {
		return false
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if force != convert.Unknown {
		return true
	}
	src, err := readImportFile(p)
	return err == nil && convert.Detect(src) != convert.Unknown
}

// checkImported imports ii, checks the result and returns the diagnostics
// of both, positioned in the input files.
func checkImported(ii *importInput, opts check.Options) diag.Diagnostics {
	out, cds := convert.Convert(ii.in, convert.Options{ChainOrigin: true})
	ds := append(append(diag.Diagnostics{}, ii.ds...), cds...)
	f, pds := lang.ParseFile(importedName, out)
	if pds.HasErrors() || f == nil {
		return append(ds, pds...) // reported by Convert too (FW3205)
	}
	if len(opts.Backends) == 0 {
		// The input runs on one backend; what another could not express
		// says nothing about it.
		if len(ii.in.Nft) > 0 {
			opts.Backends = []string{"nft"}
		} else {
			for _, r := range ii.in.Rulesets {
				opts.Backends = append(opts.Backends, map[convert.Family]string{convert.IPv4: "iptables", convert.IPv6: "ip6tables"}[r.Family])
			}
		}
	}
	_, lds := compile.Check([]*ast.File{f}, opts)
	m := newOriginMap(out, ii.sources)
	for _, d := range lds {
		d.Subject = m.remap(d.Subject)
		for i := range d.Related {
			d.Related[i].Range = m.remap(d.Related[i].Range)
		}
		ds = append(ds, d)
	}
	return ds
}

// originMap maps lines of the imported policy to the input lines named by
// their origin comments ("# rules.v4:42, rules.v6:40": the first).
type originMap struct {
	lines   [][]byte
	byBase  map[string]string // base name -> name as given
	sources map[string][]byte
	first   string
}

func newOriginMap(out []byte, sources map[string][]byte) *originMap {
	m := &originMap{lines: bytes.Split(out, []byte("\n")), byBase: map[string]string{}, sources: sources}
	for name := range sources {
		m.byBase[filepath.Base(name)] = name
		if m.first == "" || name < m.first {
			m.first = name
		}
	}
	return m
}

func (m *originMap) remap(r diag.Range) diag.Range {
	if r.Filename != importedName || r.Start.Line < 1 || r.Start.Line > len(m.lines) {
		return r
	}
	base, n, ok := convert.Origin(string(m.lines[r.Start.Line-1]))
	if !ok {
		return diag.Range{Filename: m.first}
	}
	name, ok := m.byBase[base]
	if !ok {
		return diag.Range{Filename: m.first}
	}
	// The whole input line, from its first word.
	src := m.sources[name]
	off, line := 0, 1
	for line < n && off < len(src) {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return diag.Range{Filename: name}
		}
		off += i + 1
		line++
	}
	end := off
	for end < len(src) && src[end] != '\n' && src[end] != '\r' {
		end++
	}
	start := off
	for start < end && (src[start] == ' ' || src[start] == '\t') {
		start++
	}
	return diag.Range{
		Filename: name,
		Start:    diag.Pos{Line: n, Column: start - off + 1, Byte: start},
		End:      diag.Pos{Line: n, Column: end - off + 1, Byte: end},
	}
}
