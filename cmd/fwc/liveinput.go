package main

// trace and diff on rulesets that are not fwc policies: iptables-save and
// nft files, and the live kernel's ruleset, all read through fwc import's
// readers and converter.

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/fwcproject/fwc/importer/convert"
	"github.com/fwcproject/fwc/policy"
)

// rulesetSource names what trace or diff reads: a path (a policy or a
// ruleset file) or, with live, the kernel's ruleset in namespace netns.
type rulesetSource struct {
	path  string
	live  bool
	netns string
}

func (s rulesetSource) String() string {
	switch {
	case !s.live:
		return s.path
	case s.netns != "":
		return "the live ruleset of " + s.netns
	}
	return "the live ruleset"
}

// rulesetInput reads s when it is a ruleset to import: the live ruleset,
// or a regular file not named *.fw holding iptables-save, nft or nft JSON
// text (told by content, as fwc import does). It returns nil, nil for a
// policy, and the name the converted rules' origin comments give the
// main input.
func rulesetInput(s rulesetSource) (*importInput, string, error) {
	if s.live {
		ii, err := readLive(s.netns)
		if err != nil {
			return nil, "", err
		}
		for name := range ii.sources {
			return ii, name, nil
		}
	}
	if strings.HasSuffix(s.path, ".fw") {
		return nil, "", nil
	}
	if fi, err := os.Stat(s.path); err != nil || !fi.Mode().IsRegular() {
		return nil, "", nil
	}
	src, err := readImportFile(s.path)
	if err != nil {
		return nil, "", &exitError{code: exitUsage, err: err}
	}
	switch k := convert.Detect(src); k {
	case convert.Iptables, convert.Ip6tables, convert.Nft, convert.NftJSON:
		ii, err := readImportInputs([]string{s.path}, k)
		return ii, s.path, err
	}
	return nil, "", nil
}

// importedFamilies are the address families an imported ruleset speaks
// of: an nft ruleset is the whole of what the kernel does (an address
// family without a table is let through), an iptables-save text only
// its own family.
func importedFamilies(ii *importInput) policy.Family {
	if len(ii.in.Nft) > 0 {
		return policy.Both
	}
	var f policy.Family
	for _, r := range ii.in.Rulesets {
		if r.Family == convert.IPv6 {
			f |= policy.IPv6
		} else {
			f |= policy.IPv4
		}
	}
	return f
}

// originSource is the input a converted rule's origin comment names
// ("rules.v4" of "# rules.v4:42", the base name of the file it read):
// the name as it was read, else main.
func originSource(sources map[string][]byte, base, main string) string {
	if _, ok := sources[base]; ok {
		return base
	}
	for name := range sources {
		if filepath.Base(name) == base {
			return name
		}
	}
	return main
}

// isJSONLine tells a line of nft JSON (a key, a brace), which shows
// nothing of the rule it opens.
func isJSONLine(line string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, "\"") || strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")
}
