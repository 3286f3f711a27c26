package lang

import (
	"slices"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/fwcproject/fwc/ast"
)

// fieldMatch is the generic match `NAME [SUB] [!=] VALUES` of a field that
// package policy declares (ast.DeclareField). It is the last alternative of
// the match union, so every construct with a grammar of its own wins.
type fieldMatch struct {
	span
	Head   *fieldHead `parser:"@@"`
	Neg    bool       `parser:"@\"!=\"?"`
	Values *valueList `parser:"@@"`
}

func (*fieldMatch) isMatch() {}

// fieldHead reads the name and sub-keyword by hand: only the field table
// knows whether the word after the name is a sub-keyword (`addrtype dst
// local`) or already a value (`pkttype broadcast`), and a struct tag cannot
// ask it.
type fieldHead struct {
	Name lexer.Token
	Sub  *lexer.Token
}

func (h *fieldHead) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != tokWord {
		return participle.NextMatch
	}
	known, hasSub := ast.FieldSyntax(t.Value)
	if !known {
		return participle.NextMatch
	}
	cp := lex.MakeCheckpoint()
	name := *lex.Next()
	next := lex.Peek()
	// `ttl set 64`, `ct mark set 1` are actions, not matches.
	if next.Value == "set" && next.Type == tokWord {
		lex.LoadCheckpoint(cp)
		return participle.NextMatch
	}
	h.Name = name
	if hasSub && next.Type == tokWord {
		// A name with a grammar of its own (ct state, ct mark) takes
		// only the field's sub-keywords: another word is a mistake in
		// that grammar, whose syntax error says "did you mean ct
		// state". A name that is only a field takes any word, so the
		// checker can name the closest sub-keyword.
		if slices.Contains(keywords(), name.Value) && !slices.Contains(ast.FieldSubs(name.Value), next.Value) {
			lex.LoadCheckpoint(cp)
			return participle.NextMatch
		}
		sub := *lex.Next()
		if after := lex.Peek(); after.Type == tokWord && after.Value == "set" {
			lex.LoadCheckpoint(cp)
			return participle.NextMatch
		}
		h.Sub = &sub
	}
	return nil
}
