package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd is the hidden "fwc man": it writes the manual pages, for
// packagers (a release build runs it; the pages are not kept in the repo,
// so they cannot drift from the commands).
func newManCmd(e *env) *cobra.Command {
	var dir, language string
	cmd := &cobra.Command{
		Use:    "man --dir DIR [--language docs/language.md]",
		Short:  "Write the manual pages",
		Hidden: true,
		Long: `Man writes fwc(1) and one page per command (fwc-check(1), ...) into DIR,
generated from the commands' own help, and with --language the language
reference as fwc.fw(5).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usagef("--dir is required")
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Title: "FWC", Section: "1", Source: "fwc " + fwcVersion(), Manual: "fwc manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if language != "" {
				md, err := os.ReadFile(language)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				page := md2man.Render(languagePage(md, fwcVersion()))
				if err := os.WriteFile(filepath.Join(dir, "fwc.fw.5"), page, 0o644); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			fmt.Fprintf(e.stdout, "wrote the manual pages to %s\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "`directory` to write the pages into")
	cmd.Flags().StringVar(&language, "language", "", "the language reference (docs/language.md) to render as fwc.fw(5)")
	return cmd
}

var (
	tocLine  = regexp.MustCompile(`(?m)^- \[[^\]]*\]\(#[^)]*\)\n`)
	mdLink   = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	fwFence  = regexp.MustCompile("(?m)^```[a-z]*$")
	subTitle = regexp.MustCompile(`(?m)^## `)
)

// languagePage turns docs/language.md into the markdown of fwc.fw(5): a
// title block, NAME, the reference with its sections as man sections and
// its subsections as subsections, without the table of contents and with links as plain
// text (a man page has no anchors).
func languagePage(md []byte, version string) []byte {
	text := string(md)
	if i := strings.Index(text, "\n## "); i >= 0 {
		// The page's own title line goes: NAME says it.
		text = text[strings.Index(text, "\n")+1:]
	}
	text = tocLine.ReplaceAllString(text, "")
	text = mdLink.ReplaceAllString(text, "$1")
	text = fwFence.ReplaceAllString(text, "```")
	// ## is a man section (.SH); ### and below stay subsections (.SS):
	// md2man makes .SH of both # and ##.
	text = subTitle.ReplaceAllString(text, "# ")
	text = tablesAsLists(text)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%% FWC.FW 5 \"fwc %s\" \"fwc manual\"\n\n", version)
	b.WriteString("# NAME\n\nfwc.fw - the fwc firewall policy language\n\n# DESCRIPTION\n\n")
	b.WriteString(text)
	b.WriteString("\n# SEE ALSO\n\nfwc(1), fwc-check(1), fwc-translate(1), nft(8), iptables(8)\n")
	return b.Bytes()
}

// tablesAsLists rewrites each markdown table as a list, a row an item: the
// reference's tables (construct, iptables, nft) are wider than a terminal,
// and groff's tables do not wrap their cells. An item is the first cell,
// then each other cell after its column's heading.
func tablesAsLists(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	cells := func(l string) []string {
		l = strings.TrimSpace(l)
		l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
		// A cell may hold an escaped bar (\|) or one inside backquotes.
		var cs []string
		var cur strings.Builder
		tick := false
		for i := 0; i < len(l); i++ {
			switch c := l[i]; {
			case c == '`':
				tick = !tick
				cur.WriteByte(c)
			case c == '\\' && i+1 < len(l) && l[i+1] == '|':
				cur.WriteByte('|')
				i++
			case c == '|' && !tick:
				cs = append(cs, strings.TrimSpace(cur.String()))
				cur.Reset()
			default:
				cur.WriteByte(c)
			}
		}
		return append(cs, strings.TrimSpace(cur.String()))
	}
	for i := 0; i < len(lines); i++ {
		isTable := strings.HasPrefix(strings.TrimSpace(lines[i]), "|") && i+1 < len(lines) &&
			strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|") && strings.Contains(lines[i+1], "---")
		if !isTable {
			out = append(out, lines[i])
			continue
		}
		head := cells(lines[i])
		i += 2
		for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
			row := cells(lines[i])
			item := "- " + row[0]
			for j := 1; j < len(row) && j < len(head); j++ {
				if row[j] != "" {
					item += "; " + head[j] + ": " + row[j]
				}
			}
			out = append(out, item)
		}
		i--
	}
	return strings.Join(out, "\n")
}
