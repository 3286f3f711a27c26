package diag

import (
	"slices"
	"strings"
	"sync"
)

// Doc documents one diagnostic code. Title is the one-line name shown by
// `fwc explain` lists; Doc is the user documentation in plain text.
type Doc struct {
	Code     string
	Title    string
	Severity Severity // default severity
	Doc      string
}

var (
	registryMu sync.Mutex
	registry   = map[string]Doc{}
)

// Register records the documentation of a code. Each stage registers its own
// codes from an init function; registering a code twice is a programming
// error and panics at start-up, never at run time on user input.
func Register(d Doc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[d.Code]; dup {
		panic("diag: code registered twice: " + d.Code)
	}
	d.Doc = strings.TrimSpace(d.Doc)
	registry[d.Code] = d
}

// Lookup returns the documentation of code.
func Lookup(code string) (Doc, bool) {
	registryMu.Lock()
	defer registryMu.Unlock()
	d, ok := registry[strings.ToUpper(code)]
	return d, ok
}

// Codes returns every registered code, sorted.
func Codes() []Doc {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := make([]Doc, 0, len(registry))
	for _, d := range registry {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Doc) int { return strings.Compare(a.Code, b.Code) })
	return out
}
