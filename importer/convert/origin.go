package convert

import (
	"regexp"
	"strconv"
)

// originRE matches the origin comment the converter ends a line with:
// "# rules.v4:42", "# rules.v4:42, rules.v6:40" (a rule folded from both
// families) or, with Options.ChainOrigin, "# policy of rules.v4:3". A
// name may hold colons ("live:NS", the live ruleset's): the line number
// is what follows the last one.
var originRE = regexp.MustCompile(`#\s*(?:policy of\s+)?([^\s#,]+):(\d+)(?:,\s*[^\s#,]+:\d+)*\s*$`)

// Origin reads the origin comment at the end of a line of converted
// source: the base name of the input the line came from and its line
// there (the first input's, for a folded rule). The commands that point
// back into an imported file (check, diff, trace) read it here, beside
// the code that writes it.
func Origin(line string) (file string, n int, ok bool) {
	m := originRE.FindStringSubmatch(line)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return m[1], n, true
}
