package iptables

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// PrintOptions tunes Print.
type PrintOptions struct {
	// Counters prints chain and rule counters ("[p:b]"), for
	// iptables-restore --counters; without it chains print [0:0] and rules
	// none.
	Counters bool
}

// Print writes f back as iptables-save text: every table block that
// iptables-restore would load (the last of each name), built-in chains whose
// policy the file sets, then user chains (with -N when the name needs
// quotes), each rule as "-A" in the order the
// kernel runs them (so "-I" positions appear resolved). Negations are printed
// in the current form ("! --opt v"); values are quoted when they were quoted or
// need it. Loading the output gives the kernel the same ruleset as loading
// the input.
func Print(w io.Writer, f *File, opts PrintOptions) error {
	bw := bufio.NewWriter(w)
	for _, t := range f.Tables {
		if t.Replaced {
			continue
		}
		fmt.Fprintf(bw, "*%s\n", t.Name)
		for _, c := range t.Chains {
			if c.Builtin && c.Policy == "" {
				continue // left as it is by iptables-restore
			}
			if !c.Builtin && quote(c.Name, false) != c.Name {
				// ":" lines are split at blanks without quotes; -N
				// takes a quoted name.
				fmt.Fprintf(bw, "-N %s\n", quote(c.Name, false))
				continue
			}
			pol := c.Policy
			if pol == "" {
				pol = "-"
			}
			cnt := "[0:0]"
			if opts.Counters && c.Counters != nil {
				cnt = fmt.Sprintf("[%d:%d]", c.Counters.Packets, c.Counters.Bytes)
			}
			fmt.Fprintf(bw, ":%s %s %s\n", c.Name, pol, cnt)
		}
		for _, c := range t.Chains {
			for _, r := range c.Rules {
				printRule(bw, r, opts)
			}
		}
		bw.WriteString("COMMIT\n")
	}
	return bw.Flush()
}

func printRule(w *bufio.Writer, r *Rule, opts PrintOptions) {
	if opts.Counters && r.Counters != nil {
		fmt.Fprintf(w, "[%d:%d] ", r.Counters.Packets, r.Counters.Bytes)
	}
	w.WriteString("-A ")
	w.WriteString(quote(r.Chain, false))
	// Stray options came before any -p: printed first, they read back as
	// stray again.
	for _, o := range r.Stray {
		printOption(w, o)
	}
	for _, o := range []*Option{r.Family, r.Source, r.Destination, r.InIface, r.OutIface, r.Protocol, r.Fragment} {
		printOption(w, o)
	}
	// An implicit protocol match is printed as "-m NAME" where iptables
	// loads it (at its first option), as iptables-save prints it: matches
	// run in order, and some have side effects (limit, recent, statistic
	// count every packet that reaches them), so the order is kept.
	for _, m := range r.Matches {
		w.WriteString(" -m ")
		w.WriteString(quote(m.Name, false))
		for _, o := range m.Options {
			printOption(w, o)
		}
	}
	if t := r.Target; t != nil {
		if t.Goto {
			w.WriteString(" -g ")
		} else {
			w.WriteString(" -j ")
		}
		w.WriteString(quote(t.Name, false))
		for _, o := range t.Options {
			printOption(w, o)
		}
	}
	w.WriteByte('\n')
}

func printOption(w *bufio.Writer, o *Option) {
	if o == nil {
		return
	}
	if o.Negated {
		w.WriteString(" !")
	}
	w.WriteByte(' ')
	w.WriteString(o.Name)
	for _, v := range o.Values {
		w.WriteByte(' ')
		w.WriteString(quote(v.Text, v.Quoted))
	}
}

// quote prints s as iptables-save does (xtables_save_string): bare when it
// needs nothing, else in double quotes with '"' and '\' escaped.
func quote(s string, quoted bool) string {
	if !quoted && s != "" && !strings.ContainsAny(s, " \t\"\\'") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
