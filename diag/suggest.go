package diag

// Suggest returns the candidate closest to name when it is close enough to
// be a plausible typo, else "": the "did you mean" of every diagnostic about
// an unknown name or keyword.
func Suggest(name string, candidates []string) string {
	best, bestD := "", len(name)/2+1
	if bestD > 3 {
		bestD = 3
	}
	for _, c := range candidates {
		if d := distance(name, c); d < bestD || (d == bestD && best != "" && c < best) {
			if d <= bestD {
				best, bestD = c, d
			}
		}
	}
	return best
}

// distance is the optimal string alignment distance (Levenshtein with
// adjacent transpositions), which catches "lna" for "lan".
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// SuggestAll returns every candidate at the smallest distance from name
// that Suggest would accept, in the order given; nil when none is close.
func SuggestAll(name string, candidates []string) []string {
	best := Suggest(name, candidates)
	if best == "" {
		return nil
	}
	d := distance(name, best)
	var out []string
	for _, c := range candidates {
		if distance(name, c) == d {
			out = append(out, c)
		}
	}
	return out
}
