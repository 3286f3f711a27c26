// Package lines is what the importer's readers share: a line reader that
// streams its input with a cap on line length, tells each line's position,
// and splits a line into words the way iptables-restore and ipset restore do,
// keeping each word's column; and the diagnostic codes every reader reports
// (input too long, binary data, too many errors).
//
// Positions follow package diag: lines and columns are 1-based, columns
// count bytes from the start of the line, and Pos.Byte is the 0-based offset
// in the input.
package lines

import (
	"bufio"
	"bytes"
	"io"

	"github.com/fwcproject/fwc/diag"
)

// Codes shared by the readers. The readers' own codes are FW3010-FW3099
// (iptables) and FW3101-FW3199 (ipset).
const (
	CodeLineTooLong = "FW3001"
	CodeBinary      = "FW3002"
	CodeTooMany     = "FW3003"
	CodeRead        = "FW3004"
)

// DefaultMaxLine is the longest line a reader keeps, in bytes. iptables-save
// never prints a line near it (iptables-restore itself reads lines into a
// 10 KiB buffer and words of at most 1 KiB); a longer line is reported and
// skipped without being held in memory.
const DefaultMaxLine = 64 << 10

// DefaultMaxErrors is how many errors a reader reports before it stops
// reading: past that the input is almost certainly not a ruleset at all
// (binary garbage, the wrong file) and reading on only costs time.
const DefaultMaxErrors = 100

func init() {
	for _, d := range []diag.Doc{
		{Code: CodeLineTooLong, Title: "Input line too long", Severity: diag.Error, Doc: `
A line of an imported file (iptables-save, ip6tables-save or ipset save output)
is longer than the reader keeps (64 KiB by default). No tool prints lines that
long; the file is probably not what it is named. The line is skipped, the rest
of the file is read.
`},
		{Code: CodeBinary, Title: "Binary data in imported file", Severity: diag.Error, Doc: `
A line of an imported file holds a NUL byte or another control character
(other than tab, and the carriage return of a CRLF line end). iptables-save
and ipset save print text only: the file is damaged or is not a ruleset. The
line is skipped.
`},
		{Code: CodeTooMany, Title: "Too many errors in imported file", Severity: diag.Error, Doc: `
The reader found so many errors (100) that it stopped reading the file: it is
almost certainly not iptables-save or ipset save output. The errors before this
one say where it went wrong first.
`},
		{Code: CodeRead, Title: "Cannot read imported file", Severity: diag.Error, Doc: `
Reading the input failed part way (an I/O error). What was read before the
error is kept.
`},
	} {
		diag.Register(d)
	}
}

// Line is one line of input, without its line end ("\n" or "\r\n").
type Line struct {
	Text []byte // valid until the next call to Next
	Num  int    // 1-based line number
	Off  int    // 0-based byte offset of the line's first byte in the input
	// Bad is true for a line Next has reported (too long, binary) and that
	// the caller must skip; Text is nil then.
	Bad bool
}

// Reader streams lines. Memory use is bounded by MaxLine whatever the input.
type Reader struct {
	Filename string
	MaxLine  int

	br   *bufio.Reader
	buf  []byte
	num  int
	off  int
	line Line
	err  error
}

// NewReader reads from r; maxLine <= 0 means DefaultMaxLine.
func NewReader(r io.Reader, filename string, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	return &Reader{Filename: filename, MaxLine: maxLine, br: bufio.NewReaderSize(r, 64<<10)}
}

// Next reads the next line. A line longer than MaxLine is reported in ds
// (its bytes are read and dropped, never stored), and so is a line holding
// binary data; both come back with Line.Bad set, so that the caller counts
// the error (and can stop) before the next line is read. It returns false at
// the end of the input or after an I/O error (reported in ds).
func (r *Reader) Next(ds *diag.Diagnostics) bool {
	if r.err != nil {
		return false
	}
	r.buf = r.buf[:0]
	start := r.off
	long := false
	n := 0
	for {
		chunk, err := r.br.ReadSlice('\n')
		n += len(chunk)
		if !long {
			if len(r.buf)+len(chunk) > r.MaxLine+2 { // +2: the line end
				long = true
				r.buf = r.buf[:0]
			} else {
				r.buf = append(r.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			r.err = err
			r.line = Line{Num: r.num + 1, Off: start}
			ds.Add(diag.Error, CodeRead, r.Range(1, 1), "cannot read: "+err.Error(), "")
			return false
		}
		if err == io.EOF {
			r.err = io.EOF
			if n == 0 {
				return false
			}
		}
		break
	}
	r.num++
	r.off += n
	if long {
		r.line = Line{Num: r.num, Off: start, Bad: true}
		ds.Add(diag.Error, CodeLineTooLong, r.Range(1, 1),
			"line too long", "The line is longer than the reader keeps; it is skipped.")
		return true
	}
	text := bytes.TrimSuffix(r.buf, []byte("\n"))
	text = bytes.TrimSuffix(text, []byte("\r"))
	r.line = Line{Text: text, Num: r.num, Off: start}
	if len(text) > r.MaxLine {
		r.line.Text, r.line.Bad = nil, true
		ds.Add(diag.Error, CodeLineTooLong, r.Range(1, 1),
			"line too long", "The line is longer than the reader keeps; it is skipped.")
		return true
	}
	if i := binaryAt(text); i >= 0 {
		r.line.Text, r.line.Bad = nil, true
		ds.Add(diag.Error, CodeBinary, r.Range(i+1, i+2),
			"binary data in input", "A control byte that no save tool prints; the line is skipped.")
		return true
	}
	return true
}

// Line returns the current line.
func (r *Reader) Line() Line { return r.line }

// Range returns the range of the bytes [col, endCol) of the current line
// (columns 1-based, End exclusive).
func (r *Reader) Range(col, endCol int) diag.Range {
	return diag.Range{
		Filename: r.Filename,
		Start:    diag.Pos{Line: r.line.Num, Column: col, Byte: r.line.Off + col - 1},
		End:      diag.Pos{Line: r.line.Num, Column: endCol, Byte: r.line.Off + endCol - 1},
	}
}

// binaryAt returns the index of the first byte that no save tool prints, or -1.
func binaryAt(b []byte) int {
	for i, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}

// Word is one word of a line after quote removal.
type Word struct {
	Text   string // the word, quotes removed and escapes resolved
	Col    int    // 1-based byte column of its first byte (an opening quote included)
	End    int    // 1-based column just past its last byte (exclusive)
	Quoted bool   // some part of it was in double quotes
}

// Split splits a line the way iptables-restore's add_param_to_argv does:
// words are separated by spaces and tabs; a double quote opens a quoted part,
// in which spaces are kept and a backslash takes the next byte literally; the
// closing quote ends the word. Outside quotes a backslash is an ordinary
// byte. It returns the words and, if a quote is left open, the column of the
// opening quote (else 0).
func Split(line []byte, in *Interner) (words []Word, openQuote int) {
	var cur []byte
	words = make([]Word, 0, 16)
	inq, esc, have, quoted := false, false, false, false
	start, qcol := 0, 0
	flush := func(end int) {
		words = append(words, Word{Text: in.String(cur), Col: start + 1, End: end + 1, Quoted: quoted})
		cur, have, quoted = cur[:0], false, false
	}
	for i, c := range line {
		if inq {
			switch {
			case esc:
				cur = append(cur, c)
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inq = false
				flush(i + 1)
			default:
				cur = append(cur, c)
			}
			continue
		}
		switch c {
		case '"':
			if !have {
				start, have = i, true
			}
			inq, quoted, qcol = true, true, i+1
		case ' ', '\t':
			if have {
				flush(i)
			}
		default:
			if !have {
				start, have = i, true
			}
			cur = append(cur, c)
		}
	}
	if inq {
		return words, qcol
	}
	if have {
		flush(len(line))
	}
	return words, 0
}

// Interner hands out one string for each short word it has seen, so that
// the thousands of "-A", "-p", "tcp", "--dport" and "ACCEPT" of a large file
// share their bytes (a 50,000-rule file holds a few hundred distinct short
// words). The zero value is ready; a nil *Interner interns nothing.
type Interner struct{ m map[string]string }

// String returns b as a string, shared with earlier equal words.
func (in *Interner) String(b []byte) string {
	if in == nil || len(b) > 32 {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = make(map[string]string)
	}
	if len(in.m) < 1<<16 { // bounded: garbage input cannot grow it without end
		in.m[s] = s
	}
	return s
}

// Fields splits a line at spaces and tabs only, with no quote handling: the
// way iptables-restore reads "*table" and ":CHAIN POLICY [p:b]" lines
// (strtok), unlike rule lines.
func Fields(line []byte) []Word {
	var words []Word
	start := -1
	for i := 0; i <= len(line); i++ {
		blank := i == len(line) || line[i] == ' ' || line[i] == '\t'
		switch {
		case blank && start >= 0:
			words = append(words, Word{Text: string(line[start:i]), Col: start + 1, End: i + 1})
			start = -1
		case !blank && start < 0:
			start = i
		}
	}
	return words
}
