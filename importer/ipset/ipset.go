package ipset

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fwcproject/fwc/diag"
	"github.com/fwcproject/fwc/importer/internal/lines"
)

// Diagnostic codes of the ipset reader. The codes every importer reader
// shares (FW3001-FW3004) are in importer/internal/lines.
const (
	CodeNotUnderstood = "FW3101"
	CodeBadCreate     = "FW3102"
	CodeUndeclaredSet = "FW3103"
	CodeSetTwice      = "FW3104"
	CodeUnknownOption = "FW3105"
	CodeBadValue      = "FW3106"
	CodeUnsupported   = "FW3107"
)

func init() {
	for _, d := range []diag.Doc{
		{Code: CodeNotUnderstood, Title: "Line not understood in ipset save input", Severity: diag.Error, Doc: `
A line of an ipset save file is none of what the format has: "create NAME TYPE
[options]", "add NAME ELEMENT [options]", a "#" comment or a blank line
(ipset restore also takes the old "-N" and "-A" forms, and "flush" and
"destroy").

    create allow hash:ip family inet
    add allow 192.0.2.1
`},
		{Code: CodeBadCreate, Title: "Bad ipset create line", Severity: diag.Error, Doc: `
A create line lacks the set's name or type, or names a type ipset does not
have (bitmap:ip, bitmap:ip,mac, bitmap:port, hash:ip, hash:mac, hash:ip,mac,
hash:net, hash:net,net, hash:ip,port, hash:net,port, hash:ip,port,ip,
hash:ip,port,net, hash:ip,mark, hash:net,port,net, hash:net,iface, list:set).

    create allow hash:addr        # error: no such type
    create allow hash:ip          # fixed
`},
		{Code: CodeUndeclaredSet, Title: "Element added to an undeclared set", Severity: diag.Error, Doc: `
An add line names a set that no create line before it made. ipset restore
rejects it. The element is kept, in a set of that name with no type.
`},
		{Code: CodeSetTwice, Title: "Set created twice", Severity: diag.Error, Doc: `
Two create lines make a set of the same name. ipset restore rejects the second
one (unless run with -exist and the two are identical). The first is kept and
the elements of both are added to it.
`},
		{Code: CodeUnknownOption, Title: "Unknown ipset option", Severity: diag.Warning, Doc: `
A create or add line has an option the reader does not know. It is kept, with
the word after it taken as its value when that word is not an option the reader
knows, for the converter to judge.
`},
		{Code: CodeBadValue, Title: "Bad ipset option value", Severity: diag.Error, Doc: `
An option's value is missing or is not of its kind: hashsize, maxelem,
timeout, size, netmask, bucketsize, packets and bytes take a number, family
takes inet or inet6.

    create allow hash:ip family ipv4    # error: inet or inet6
    create allow hash:ip family inet    # fixed
`},
		{Code: CodeUnsupported, Title: "ipset command not read by the importer", Severity: diag.Error, Doc: `
The line runs an ipset command other than create, add, flush and destroy (del,
swap, rename, test, ...). ipset save never prints them; load the file and
import the output of ipset save instead.
`},
	} {
		diag.Register(d)
	}
}

// File is one ipset save text as read.
type File struct {
	Filename string
	// Sets are in creation order.
	Sets []*Set
	// Comments are the "#" lines, verbatim.
	Comments []Comment
}

// Comment is one "#" line (without its line end).
type Comment struct {
	Text  string
	Range diag.Range
}

// Set returns the named set, or nil.
func (f *File) Set(name string) *Set {
	for _, s := range f.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Set is one "create" line and the elements added to it.
type Set struct {
	Name      string
	NameRange diag.Range
	// Type is "hash:ip", "list:set", ...; "" for a set only ever added to
	// (an error).
	Type      string
	TypeRange diag.Range
	// Range covers the create line (without its line end).
	Range diag.Range
	// Options of the create line, in order: family, hashsize, maxelem,
	// timeout, counters, comment, skbinfo, size, range, netmask, ...
	Options  []*Option
	Elements []*Element
}

// Option returns the set's first option named name, or nil.
func (s *Set) Option(name string) *Option { return find(s.Options, name) }

// Element is one "add" line: the element as written (its parts separated by
// commas, "192.0.2.0/24,tcp:80") and its per-element options (timeout,
// packets, bytes, comment, skbmark, skbprio, skbqueue, nomatch).
type Element struct {
	Text    string
	Range   diag.Range // the element word
	Line    diag.Range // the whole add line
	Options []*Option
}

// Option returns the element's first option named name, or nil.
func (e *Element) Option(name string) *Option { return find(e.Options, name) }

func find(os []*Option, name string) *Option {
	for _, o := range os {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// Option is a keyword with its value, if it takes one ("hashsize 1024",
// "counters", "comment \"a b\"").
type Option struct {
	Name       string
	Range      diag.Range
	HasValue   bool
	Value      string
	ValueRange diag.Range
	Quoted     bool // the value was in double quotes
}

// Options tunes Read. The zero value is ready to use.
type Options struct {
	MaxLine   int // 0: lines.DefaultMaxLine
	MaxErrors int // 0: lines.DefaultMaxErrors; negative: no cap
}

var types = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`bitmap:ip bitmap:ip,mac bitmap:port hash:ip hash:mac hash:ip,mac
		hash:net hash:net,net hash:ip,port hash:net,port hash:ip,port,ip hash:ip,port,net hash:ip,mark
		hash:net,port,net hash:net,iface list:set`) {
		types[t] = true
	}
}

// kind of an option's value: "" no value, "n" a number, "s" any word,
// "f" a family.
var createOpts = map[string]string{
	"family": "f", "hashsize": "n", "maxelem": "n", "timeout": "n", "counters": "", "comment": "",
	"skbinfo": "", "size": "n", "range": "s", "netmask": "n", "bucketsize": "n", "initval": "s",
	"forceadd": "", "markmask": "s", "-exist": "", "-!": "",
}

var addOpts = map[string]string{
	"timeout": "n", "packets": "n", "bytes": "n", "comment": "s", "skbmark": "s", "skbprio": "s",
	"skbqueue": "n", "nomatch": "", "-exist": "", "-!": "", "before": "s", "after": "s",
}

// Read reads ipset save text. It never fails: what it cannot read is
// reported, the rest is kept. Memory is bounded by the model plus one line.
func Read(r io.Reader, filename string, opts Options) (*File, diag.Diagnostics) {
	p := &parser{f: &File{Filename: filename}, lr: lines.NewReader(r, filename, opts.MaxLine), maxErr: opts.MaxErrors,
		byName: map[string]*Set{}}
	if p.maxErr == 0 {
		p.maxErr = lines.DefaultMaxErrors
	}
	for !p.stop {
		before := len(p.ds)
		ok := p.lr.Next(&p.ds)
		for _, d := range p.ds[before:] {
			if d.Severity == diag.Error {
				p.count(d.Subject)
			}
		}
		if !ok || p.stop {
			break
		}
		if !p.lr.Line().Bad {
			p.line()
		}
	}
	return p.f, p.ds
}

// ReadBytes is Read over a byte slice.
func ReadBytes(src []byte, filename string, opts Options) (*File, diag.Diagnostics) {
	return Read(bytes.NewReader(src), filename, opts)
}

type parser struct {
	f      *File
	lr     *lines.Reader
	ds     diag.Diagnostics
	maxErr int
	errs   int
	stop   bool
	intern lines.Interner
	byName map[string]*Set
}

func (p *parser) rng(w lines.Word) diag.Range { return p.lr.Range(w.Col, w.End) }

func (p *parser) count(r diag.Range) {
	p.errs++
	if p.maxErr > 0 && p.errs >= p.maxErr && !p.stop {
		p.ds.Add(diag.Error, lines.CodeTooMany, r, "too many errors; the rest of the input is not read", "")
		p.stop = true
	}
}

func (p *parser) errorf(code string, r diag.Range, format string, args ...any) {
	if p.stop {
		return
	}
	p.ds.Add(diag.Error, code, r, fmt.Sprintf(format, args...), "")
	p.count(r)
}

func (p *parser) set(name string) *Set { return p.byName[name] }

func (p *parser) line() {
	ln := p.lr.Line()
	text := bytes.TrimRight(ln.Text, " \t")
	lead := len(text) - len(bytes.TrimLeft(text, " \t"))
	if len(text) == lead {
		return
	}
	lineR := p.lr.Range(lead+1, len(text)+1)
	if text[lead] == '#' {
		p.f.Comments = append(p.f.Comments, Comment{Text: string(text[lead:]), Range: lineR})
		return
	}
	words, open := lines.Split(text, &p.intern)
	if open > 0 {
		p.errorf(CodeBadValue, p.lr.Range(open, open+1), "quote left open")
		return
	}
	cmd := words[0]
	switch cmd.Text {
	case "create", "-N", "n":
		p.create(words, lineR)
	case "add", "-A", "a":
		p.add(words, lineR)
	case "flush", "-F", "f", "destroy", "-X", "x":
		destroy := cmd.Text == "destroy" || cmd.Text == "-X" || cmd.Text == "x"
		if len(words) == 1 {
			for _, s := range p.f.Sets {
				s.Elements = nil
			}
			if destroy {
				p.f.Sets, p.byName = nil, map[string]*Set{}
			}
			return
		}
		s := p.set(words[1].Text)
		if s == nil {
			p.errorf(CodeUndeclaredSet, p.rng(words[1]), "set %q does not exist", words[1].Text)
			return
		}
		s.Elements = nil
		if destroy {
			delete(p.byName, s.Name)
			for i, x := range p.f.Sets {
				if x == s {
					p.f.Sets = append(p.f.Sets[:i], p.f.Sets[i+1:]...)
					break
				}
			}
		}
	case "del", "-D", "d", "swap", "-W", "w", "rename", "-E", "e", "test", "-T", "t", "list", "-L", "l",
		"save", "-S", "s", "restore", "-R", "r", "version", "-V", "v", "help", "-H", "h", "COMMIT":
		if cmd.Text == "COMMIT" {
			// ipset 4 save files end with COMMIT; it carries no meaning.
			return
		}
		p.errorf(CodeUnsupported, p.rng(cmd), "the importer does not apply %q; import ipset save output", cmd.Text)
	default:
		p.errorf(CodeNotUnderstood, p.rng(cmd), "%q is not an ipset save command", cmd.Text)
	}
}

func (p *parser) create(w []lines.Word, lineR diag.Range) {
	if len(w) < 3 {
		p.errorf(CodeBadCreate, lineR, "create needs a set name and a type")
		return
	}
	s := &Set{Name: w[1].Text, NameRange: p.rng(w[1]), Type: w[2].Text, TypeRange: p.rng(w[2]), Range: lineR}
	if !types[s.Type] {
		p.errorf(CodeBadCreate, s.TypeRange, "unknown set type %q", s.Type)
	}
	s.Options = p.options(w[3:], createOpts)
	if old := p.set(s.Name); old != nil {
		p.errorf(CodeSetTwice, s.NameRange, "set %q created twice (first at line %d)", s.Name, old.Range.Start.Line)
		return
	}
	p.f.Sets = append(p.f.Sets, s)
	p.byName[s.Name] = s
}

func (p *parser) add(w []lines.Word, lineR diag.Range) {
	if len(w) < 3 {
		p.errorf(CodeBadValue, lineR, "add needs a set name and an element")
		return
	}
	s := p.set(w[1].Text)
	if s == nil {
		p.errorf(CodeUndeclaredSet, p.rng(w[1]), "set %q is not created before its elements", w[1].Text)
		s = &Set{Name: w[1].Text, NameRange: p.rng(w[1])}
		p.f.Sets = append(p.f.Sets, s)
		p.byName[s.Name] = s
	}
	e := &Element{Text: w[2].Text, Range: p.rng(w[2]), Line: lineR, Options: p.options(w[3:], addOpts)}
	s.Elements = append(s.Elements, e)
}

// options reads keyword [value] pairs.
func (p *parser) options(w []lines.Word, known map[string]string) []*Option {
	var out []*Option
	for i := 0; i < len(w); i++ {
		o := &Option{Name: w[i].Text, Range: p.rng(w[i])}
		out = append(out, o)
		kind, ok := known[o.Name]
		if !ok {
			p.ds.Add(diag.Warning, CodeUnknownOption, o.Range, fmt.Sprintf("unknown option %q", o.Name), "")
			if i+1 < len(w) {
				if _, next := known[w[i+1].Text]; !next {
					kind = "s"
				}
			}
		}
		if kind == "" {
			continue
		}
		if i+1 >= len(w) {
			p.errorf(CodeBadValue, o.Range, "%s needs a value", o.Name)
			continue
		}
		i++
		o.HasValue, o.Value, o.ValueRange, o.Quoted = true, w[i].Text, p.rng(w[i]), w[i].Quoted
		switch kind {
		case "n":
			if _, err := strconv.ParseUint(o.Value, 10, 64); err != nil {
				p.errorf(CodeBadValue, o.ValueRange, "%s takes a number, not %q", o.Name, o.Value)
			}
		case "f":
			if o.Value != "inet" && o.Value != "inet6" {
				p.errorf(CodeBadValue, o.ValueRange, "family is inet or inet6, not %q", o.Value)
			}
		}
	}
	return out
}

// Print writes f as ipset save prints it: each set's create line, then its
// add lines. ipset restore of the output makes the same sets.
func Print(w io.Writer, f *File) error {
	bw := bufio.NewWriter(w)
	for _, s := range f.Sets {
		if s.Type == "" {
			continue
		}
		fmt.Fprintf(bw, "create %s %s", s.Name, s.Type)
		printOpts(bw, s.Options)
		bw.WriteByte('\n')
		for _, e := range s.Elements {
			fmt.Fprintf(bw, "add %s %s", s.Name, e.Text)
			printOpts(bw, e.Options)
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

func printOpts(w *bufio.Writer, os []*Option) {
	for _, o := range os {
		w.WriteByte(' ')
		w.WriteString(o.Name)
		if o.HasValue {
			w.WriteByte(' ')
			if o.Quoted || o.Value == "" || strings.ContainsAny(o.Value, " \t\"") {
				// ipset save prints comments in quotes, without escapes.
				w.WriteString(`"` + o.Value + `"`)
			} else {
				w.WriteString(o.Value)
			}
		}
	}
}
