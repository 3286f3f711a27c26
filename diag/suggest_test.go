package diag

import (
	"slices"
	"testing"
)

func TestSuggest(t *testing.T) {
	cands := []string{"lan", "wan", "dmz", "dport", "sport", "state", "snat"}
	for _, c := range []struct{ name, want string }{
		{"lna", "lan"}, // a transposition is one edit
		{"wna", "wan"},
		{"dprot", "dport"},
		{"xyzzy", ""}, // nothing close
		{"d", ""},     // too short to guess
	} {
		if got := Suggest(c.name, cands); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	if got := SuggestAll("port", cands); !slices.Equal(got, []string{"dport", "sport"}) {
		t.Errorf("SuggestAll(port) = %v", got)
	}
	if got := SuggestAll("stat", cands); !slices.Equal(got, []string{"state", "snat"}) {
		t.Errorf("SuggestAll(stat) = %v", got)
	}
	if got := SuggestAll("xyzzy", cands); got != nil {
		t.Errorf("SuggestAll(xyzzy) = %v", got)
	}
}
