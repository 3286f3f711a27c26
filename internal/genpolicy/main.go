// Command genpolicy writes a generated benchmark policy to standard output:
//
//	go run ./internal/genpolicy -gen sitegen -n 10000 -seed 1 > site10k.fw
//
// -gen picks the generator: polgen (internal/polgen, the one the older
// figures in docs/performance.md were measured on) or sitegen
// (internal/sitegen, unique hosts, many ports, sets, NAT, IPv6). The same
// generator, n and seed always give the same policy, so a figure can be
// reproduced from the command that names them.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fwcproject/fwc/internal/polgen"
	"github.com/fwcproject/fwc/internal/sitegen"
)

// generators maps a -gen name to its generator.
var generators = map[string]func(n int, seed uint64) []byte{
	"polgen":  polgen.Policy,
	"sitegen": sitegen.Policy,
}

func main() {
	gen := flag.String("gen", "sitegen", "generator: polgen or sitegen")
	n := flag.Int("n", 10000, "number of rules")
	seed := flag.Uint64("seed", 1, "seed")
	flag.Parse()
	f, ok := generators[*gen]
	if !ok || *n < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: genpolicy [-gen polgen|sitegen] [-n N] [-seed S] > policy.fw")
		os.Exit(2)
	}
	if _, err := os.Stdout.Write(f(*n, *seed)); err != nil {
		fmt.Fprintln(os.Stderr, "genpolicy:", err)
		os.Exit(1)
	}
}
