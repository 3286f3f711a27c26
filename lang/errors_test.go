package lang

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	const decl = "a declaration (include, define, zone, service, set, policy, from, table, route or balance)"
	tests := []struct {
		src   string
		decls int      // declarations still parsed
		want  []string // "line:col-line:col CODE summary"
	}{
		{"zone lan { iface eth1 net 10.0.0.0/8 }", 0,
			[]string{`1:23-1:26 FW0001 unexpected "net"; expected "}"`}},
		{"from a to b tcp dport 22 acept\nzone z {}", 1,
			[]string{`1:26-1:31 FW0001 unexpected "acept"; expected an action; did you mean "accept"?`}},
		{"from a to b tcp dport 22", 0,
			[]string{`1:25-1:25 FW0001 unexpected end of file; expected an action`}},
		{"from a to b tcp dport 22\n", 0,
			[]string{`1:25-2:1 FW0001 unexpected end of line; expected an action`}},
		{"from a to b tcp dport 22; zone z {}", 1,
			[]string{`1:25-1:26 FW0001 unexpected ";"; expected an action`}},
		// A misspelt keyword gets a "did you mean"; after a keyword that
		// participle backed up to, the word after it is the one meant.
		{"from a to b acept", 0,
			[]string{`1:13-1:18 FW0001 unexpected "acept"; expected an action; did you mean "accept"?`}},
		{"from a to b tcp port 22 accept", 0,
			[]string{`1:13-1:16 FW0001 unexpected "tcp"; expected an action; did you mean "tcp dport" instead of "tcp port"?`}},
		{"from a to b ct stat new accept", 0,
			[]string{`1:13-1:15 FW0001 unexpected "ct"; expected an action; did you mean "ct state" instead of "ct stat"?`}},
		{"from a to b saddr 10.0.0.1 xyzzy", 0,
			[]string{`1:28-1:33 FW0001 unexpected "xyzzy"; expected an action`}},
		// An unclosed "{" is reported where it was opened, not where the
		// parser noticed (the end of the file, or the next declaration).
		{"zone a {\n iface x\n", 0,
			[]string{`1:8-1:9 FW0001 unclosed "{"`}},
		{"zone lan { iface eth1\npolicy lan -> self accept\n", 0,
			[]string{`1:10-1:11 FW0001 unclosed "{"`}},
		{"table filter {\n chain input {\n  accept\n}\nzone z {}\n", 0,
			[]string{`1:14-1:15 FW0001 unclosed "{"`}}, // the chain's "{" is closed by the "}" on line 4
		// Closed, but wrong inside: the error stays where the parser is.
		{"zone a { iface }\n", 0,
			[]string{`1:10-1:15 FW0001 unexpected "iface"; expected "}"`}},
		{"policy a -> b % drop\nzone b { iface y }", 1,
			[]string{`1:15-1:16 FW0002 unexpected character "%"`}},
		{"define x = \"abc\nzone c {}", 1,
			[]string{`1:12-1:16 FW0002 invalid string literal`}},
		{`define x = "a\q"`, 0,
			[]string{`1:12-1:17 FW0002 invalid string literal`}},
		{"table filter { chain input { mark set } }", 0,
			[]string{`1:39-1:40 FW0001 unexpected "}"; expected a value`}},
		{"foo bar\nzone a {}\nbaz", 1,
			[]string{`1:1-1:4 FW0001 unexpected "foo"; expected ` + decl, `3:1-3:4 FW0001 unexpected "baz"; expected ` + decl}},
		{"}", 0, []string{`1:1-1:2 FW0001 unexpected "}"; expected ` + decl}},
		{"zone a { iface x } zone b {}", 0,
			[]string{`1:20-1:24 FW0001 unexpected "zone"; expected end of line`}},
		{"# é comment\nzone é {}", 0, // columns count bytes: é is two
			[]string{`2:6-2:8 FW0002 unexpected character "é"`}},
		{"set s : ipv4_addr { timeout 1h; size 3; timeout 2h }", 1,
			[]string{`1:41-1:51 FW0003 timeout given twice`}},
		{"from a to b tcp sport . udp dport @x accept", 1,
			[]string{`1:25-1:28 FW0004 lookup mixes protocols tcp and udp`}},
		{"from a to b saddr 1.2.3.4, accept", 0, // any word is a value
			[]string{`1:34-1:34 FW0001 unexpected end of file; expected an action`}},
		{"zone a { iface { x, } }", 0,
			[]string{`1:19-1:20 FW0001 unexpected ","; expected "}"`}},
		// What participle expected is cut out of its message after the
		// token, not searched for: this string once made the summary
		// `expected y)\"" (expected an action`.
		{`policy a -> b "x (expected y)"`, 0,
			[]string{`1:15-1:31 FW0001 unexpected "\"x (expected y)\""; expected an action`}},
		// A "}" the parser did not expect, inside a block left open, is
		// reported as it is: the "}" in the message was the unexpected
		// token, not what was expected, and "unclosed" was wrong.
		{"table t {\n chain c {\n  mark set }\n", 0,
			[]string{`3:12-3:13 FW0001 unexpected "}"; expected a value`}},
	}
	for _, tt := range tests {
		f, ds := ParseFile("e.fw", []byte(tt.src))
		var got []string
		for _, d := range ds {
			s := d.Subject
			if s.Filename != "e.fw" {
				t.Errorf("%q: filename %q", tt.src, s.Filename)
			}
			got = append(got, fmt.Sprintf("%d:%d-%d:%d %s %s", s.Start.Line, s.Start.Column, s.End.Line, s.End.Column, d.Code, d.Summary))
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%q:\n got %s\nwant %s", tt.src, strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
		}
		if len(f.Decls) != tt.decls {
			t.Errorf("%q: %d declarations kept, want %d", tt.src, len(f.Decls), tt.decls)
		}
	}
}
