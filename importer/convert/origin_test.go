package convert

import "testing"

func TestOriginComment(t *testing.T) {
	for _, tc := range []struct {
		line, file string
		n          int
		ok         bool
	}{
		{"\t\tfamily ipv4 tcp dport 22 accept # rules.v4:42", "rules.v4", 42, true},
		{"\t\ttcp dport 22 accept # rules.v4:42, rules.v6:40", "rules.v4", 42, true},
		{"\tchain input policy drop { # policy of rules.v4:3", "rules.v4", 3, true},
		{"\t\ttcp dport 22 accept # live:fwc-test-1:185", "live:fwc-test-1", 185, true},
		{"\t\ttcp dport 22 accept", "", 0, false},
		{"\t\t# a comment: not an origin", "", 0, false},
	} {
		file, n, ok := Origin(tc.line)
		if file != tc.file || n != tc.n || ok != tc.ok {
			t.Errorf("Origin(%q) = %q, %d, %v; want %q, %d, %v", tc.line, file, n, ok, tc.file, tc.n, tc.ok)
		}
	}
}
