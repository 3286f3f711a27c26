package lang

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/fwcproject/fwc/ast"
)

// The structs in this file are the concrete syntax only: participle fills
// them, convert.go turns them into package ast's nodes. Type names are the
// production names of the EBNF in docs/grammar.ebnf.
//
// Pos is the first token of a node; EndPos is the raw token right after its
// last token, which, because whitespace and comments are tokens too (elided
// from parsing but present), is exactly where the node's text ends.

var elided = []string{"Comment", "Space"}

var parser = participle.MustBuild[policyFile](
	participle.Lexer(lexDef),
	participle.Elide(elided...),
	// One token of lookahead: an alternative that fails after more than
	// one token is an error reported where it failed, which is what makes
	// messages point at the right token. The few places that need to see
	// further say so with lookahead groups at their start.
	participle.UseLookahead(1),
	participle.Union[decl](
		&includeDecl{}, &defineDecl{}, &zoneDecl{}, &serviceDecl{}, &setDecl{},
		&policyDecl{}, &zoneRule{}, &tableDecl{}, &routeDecl{}, &balanceDecl{},
		&assertDecl{}, &sysctlDecl{},
	),
	participle.Union[match](
		&concatMatch{}, &addrMatch{}, &protoMatch{}, &tcpFlagsMatch{}, &portMatch{},
		&ifaceMatch{}, &serviceMatch{}, &icmpMatch{}, &ctMatch{}, &markMatch{},
		&familyMatch{}, &limitMatch{}, &meterMatch{}, &connlimitMatch{}, &timeMatch{},
		&probabilityMatch{}, &stringMatch{},
		// Last: the generic field match (field.go) only after every
		// construct with a grammar of its own.
		&fieldMatch{},
	),
	participle.Union[action](
		&verdictAction{}, &jumpAction{}, &logAction{}, &counterAction{}, &markSetAction{},
		&connmarkAction{}, &routeAction{}, &natAction{}, &simpleAction{}, &headerSetAction{},
	),
)

// stmtParser parses one top-level declaration; ParseFile splits a file at
// top-level terminators itself so that a syntax error costs one declaration,
// not the rest of the file.
var stmtParser = func() *participle.Parser[stmt] {
	p, err := participle.ParserForProduction[stmt](parser)
	if err != nil {
		panic(err)
	}
	return p
}()

type span struct {
	Pos    lexer.Position
	EndPos lexer.Position
}

type policyFile struct {
	Stmts []*stmt `parser:"EOL* ( @@ ( EOL+ | EOF ) )*"`
}

type stmt struct {
	Decl decl `parser:"@@"`
}

type decl interface{ isDecl() }

type ident struct {
	span
	Name string `parser:"@Word"`
}

type str struct {
	span
	Text string `parser:"@String"`
}

type includeDecl struct {
	span
	Path *str `parser:"\"include\" @@"`
}

type defineDecl struct {
	span
	Name   *ident     `parser:"\"define\" @@ \"=\""`
	Values *valueList `parser:"@@"`
}

type zoneDecl struct {
	span
	Name  *ident      `parser:"\"zone\" @@ \"{\" EOL*"`
	Items []*zoneItem `parser:"( @@ ( EOL+ @@ )* EOL* )? \"}\""`
}

type zoneItem struct {
	span
	Key    []lexer.Token `parser:"@( \"iface\" | \"net\" )"`
	Values *valueList    `parser:"@@"`
}

type sysctlDecl struct {
	span
	Key   *ident `parser:"\"sysctl\" @@ \"=\""`
	Value *value `parser:"@@"`
}

type serviceDecl struct {
	span
	Name   *ident     `parser:"\"service\" @@ \"=\""`
	Values *valueList `parser:"@@"`
}

type setDecl struct {
	span
	Name  *ident     `parser:"\"set\" @@ \":\""`
	Type  []*ident   `parser:"@@ ( \".\" @@ )*"`
	Body  bool       `parser:"( @\"{\" EOL*"`
	Items []*setItem `parser:"  ( @@ ( EOL+ @@ )* EOL* )? \"}\" )?"`
}

type setItem struct {
	span
	Timeout  *value    `parser:"  \"timeout\" @@"`
	Size     *value    `parser:"| \"size\" @@"`
	Dynamic  bool      `parser:"| @\"dynamic\""`
	Elements *setElems `parser:"| @@"`
}

type setElems struct {
	span
	Elems []*setElem `parser:"\"elements\" \"{\" EOL* ( @@ ( \",\" EOL* @@ )* EOL* )? \"}\""`
}

type setElem struct {
	span
	Value   *concat `parser:"@@"`
	Timeout *value  `parser:"( \"timeout\" @@ )?"`
}

type policyDecl struct {
	span
	From    *ident   `parser:"\"policy\" @@ \"->\""`
	To      *ident   `parser:"@@"`
	Actions []action `parser:"@@+"`
}

type zoneRule struct {
	span
	From    *ident   `parser:"\"from\" @@ \"to\""`
	To      *ident   `parser:"@@"`
	Matches []match  `parser:"@@*"`
	Actions []action `parser:"@@+"`
}

// assertDecl is a zone rule's matches under "assert", ending in the
// verdict every packet they name must get.
type assertDecl struct {
	span
	Management []lexer.Token `parser:"\"assert\" @\"management\"?"`
	From       *ident        `parser:"\"from\" @@ \"to\""`
	To         *ident        `parser:"@@"`
	Matches    []match       `parser:"@@*"`
	Verdict    []lexer.Token `parser:"@( \"accept\" | \"drop\" | \"masquerade\" | \"snat\" | \"dnat\" | \"redirect\" )"`
}

type tableDecl struct {
	span
	Name   *ident       `parser:"\"table\" @@ \"{\" EOL*"`
	Chains []*chainDecl `parser:"( @@ ( EOL+ @@ )* EOL* )? \"}\""`
}

type chainDecl struct {
	span
	Name     *ident       `parser:"\"chain\" @@"`
	Policy   *ident       `parser:"( \"policy\" @@ )?"`
	Priority *priority    `parser:"( \"priority\" @@ )? \"{\" EOL*"`
	Rules    []*chainRule `parser:"( @@ ( EOL+ @@ )* EOL* )? \"}\""`
	// converted holds the rules already converted by the fast path (see
	// fastParser.onRule), instead of Rules.
	converted []*ast.Rule
}

type priority struct {
	span
	Neg    bool   `parser:"@\"-\"?"`
	Number string `parser:"@Number"`
}

type chainRule struct {
	span
	Matches []match  `parser:"@@*"`
	Actions []action `parser:"@@+"`
}

type routeDecl struct {
	span
	Name  *ident       `parser:"\"route\" @@ \"{\" EOL*"`
	Items []*routeItem `parser:"( @@ ( EOL+ @@ )* EOL* )? \"}\""`
}

type routeItem struct {
	span
	Mark     *value      `parser:"  \"mark\" @@"`
	Table    *value      `parser:"| \"table\" @@"`
	Priority *value      `parser:"| \"priority\" @@"`
	Entry    *routeEntry `parser:"| @@"`
}

type routeEntry struct {
	span
	Dest *value `parser:"@@"`
	Via  *value `parser:"( \"via\" @@"`
	Dev  *value `parser:"| \"dev\" @@ )*"`
}

type balanceDecl struct {
	span
	Name  *ident         `parser:"\"balance\" @@ \"{\" EOL*"`
	Items []*balanceItem `parser:"( @@ ( EOL+ @@ )* EOL* )? \"}\""`
}

type balanceItem struct {
	span
	Address    *value     `parser:"  \"address\" @@"`
	Service    *value     `parser:"| \"service\" @@"`
	Endpoints  *valueList `parser:"| \"endpoints\" @@"`
	Masquerade bool       `parser:"| @\"masquerade\""`
}

// Values.

type valueList struct {
	Items []*concat `parser:"@@ ( \",\" EOL* @@ )*"`
}

type concat struct {
	span
	Parts []*value `parser:"@@ ( \".\" @@ )*"`
}

type value struct {
	span
	Left *rangeVal `parser:"@@"`
	Rest []*binOp  `parser:"@@*"`
}

type binOp struct {
	Op    string    `parser:"@( \":\" | \"/\" )"`
	Right *rangeVal `parser:"@@"`
}

type rangeVal struct {
	span
	From *atom `parser:"@@"`
	To   *atom `parser:"( \"-\" @@ )?"`
}

type atom struct {
	span
	Number   *string    `parser:"  @Number"`
	IPv4     *string    `parser:"| @IPv4"`
	IPv6     *string    `parser:"| @IPv6"`
	BrIPv6   *string    `parser:"| \"[\" @IPv6 \"]\""`
	Duration *string    `parser:"| @Duration"`
	String   *string    `parser:"| @String"`
	Word     *string    `parser:"| @Word"`
	SetRef   *string    `parser:"| \"@\" @Word"`
	DefRef   *string    `parser:"| \"$\" @Word"`
	List     *braceList `parser:"| @@"`
}

type braceList struct {
	Items []*concat `parser:"\"{\" EOL* ( @@ ( \",\" EOL* @@ )* EOL* )? \"}\""`
}

// Matches.

type match interface{ isMatch() }

type concatMatch struct {
	span
	Keys []*concatKey `parser:"(?= ( \"tcp\" | \"udp\" | \"sctp\" | \"udplite\" )? ( \"saddr\" | \"daddr\" | \"sport\" | \"dport\" | \"iif\" | \"oif\" | \"mark\" ) \".\" ) @@ ( \".\" @@ )+"`
	Neg  bool         `parser:"@\"!=\"?"`
	Set  *setRef      `parser:"@@"`
}

type setRef struct {
	span
	Name string `parser:"\"@\" @Word"`
}

type concatKey struct {
	span
	Proto []lexer.Token `parser:"(  @( \"tcp\" | \"udp\" | \"sctp\" | \"udplite\" )"`
	Port  []lexer.Token `parser:"   @( \"sport\" | \"dport\" )"`
	Key   []lexer.Token `parser:" | @( \"saddr\" | \"daddr\" | \"sport\" | \"dport\" | \"iif\" | \"oif\" | \"mark\" ) )"`
}

type addrMatch struct {
	span
	Key    []lexer.Token `parser:"@( \"saddr\" | \"daddr\" )"`
	Neg    bool          `parser:"@\"!=\"?"`
	Values *valueList    `parser:"@@"`
}

type protoMatch struct {
	span
	Neg    bool       `parser:"\"proto\" @\"!=\"?"`
	Values *valueList `parser:"@@"`
}

type tcpFlagsMatch struct {
	span
	Neg   bool          `parser:"\"tcp\" ( \"flags\" @\"!=\"?"`
	Flags []*ident      `parser:"@@ ( \"|\" @@ )*"`
	Mask  []*ident      `parser:"( \"/\" @@ ( \"|\" @@ )* )?"`
	Syn   []lexer.Token `parser:"| @\"syn\" )"`
}

type portMatch struct {
	span
	Proto  []lexer.Token `parser:"@( \"tcp\" | \"udp\" | \"sctp\" | \"udplite\" )?"`
	Key    []lexer.Token `parser:"@( \"sport\" | \"dport\" )"`
	Neg    bool          `parser:"@\"!=\"?"`
	Values *valueList    `parser:"@@"`
}

type ifaceMatch struct {
	span
	Key    []lexer.Token `parser:"@( \"iif\" | \"oif\" )"`
	Neg    bool          `parser:"@\"!=\"?"`
	Values *valueList    `parser:"@@"`
}

type serviceMatch struct {
	span
	Neg    bool       `parser:"\"service\" @\"!=\"?"`
	Values *valueList `parser:"@@"`
}

type icmpMatch struct {
	span
	Proto  []lexer.Token `parser:"@( \"icmp\" | \"icmpv6\" ) \"type\""`
	Neg    bool          `parser:"@\"!=\"?"`
	Values *valueList    `parser:"@@"`
}

type ctMatch struct {
	span
	Key    []lexer.Token `parser:"\"ct\" @( \"state\" | \"status\" )"`
	Neg    bool          `parser:"@\"!=\"?"`
	Values *valueList    `parser:"@@"`
}

type markMatch struct {
	span
	Ct    bool   `parser:"(?! \"ct\"? \"mark\" ( \"set\" | \".\" ) ) @\"ct\"? \"mark\""`
	Route *ident `parser:"( \"route\" @@"`
	Neg   bool   `parser:"| @\"!=\"?"`
	Value *value `parser:"@@ )"`
}

type familyMatch struct {
	span
	Family *ident `parser:"\"family\" @@"`
}

type limitMatch struct {
	span
	Over  bool   `parser:"\"limit\" @\"over\"?"`
	Rate  *value `parser:"@@"`
	Burst *value `parser:"( \"burst\" @@ )?"`
}

type meterMatch struct {
	span
	Name  *ident        `parser:"\"meter\" @@"`
	Per   []lexer.Token `parser:"\"per\" @( \"saddr\" | \"daddr\" )"`
	Mask  *value        `parser:"( \"mask\" @@ )?"`
	Over  bool          `parser:"@\"over\"?"`
	Rate  *value        `parser:"@@"`
	Burst *value        `parser:"( \"burst\" @@ )?"`
}

type connlimitMatch struct {
	span
	Over  bool   `parser:"\"connlimit\" @\"over\"?"`
	Count *value `parser:"@@"`
	Mask  *value `parser:"( \"mask\" @@ )?"`
}

type timeMatch struct {
	span
	Key    []lexer.Token `parser:"@( \"hour\" | \"day\" | \"date\" )"`
	Neg    bool          `parser:"@\"!=\"?"`
	Values *valueList    `parser:"@@"`
}

type probabilityMatch struct {
	span
	Value *value `parser:"\"probability\" @@"`
}

type stringMatch struct {
	span
	Neg  bool   `parser:"\"string\" @\"!=\"?"`
	Text *str   `parser:"@@"`
	Algo *ident `parser:"( \"algo\" @@ )?"`
}

// Actions.

type action interface{ isAction() }

type verdictAction struct {
	span
	Kind []lexer.Token `parser:"@( \"accept\" | \"drop\" | \"return\" ) | @\"reject\""`
	With *ident        `parser:"( \"with\" @@ )?"`
}

type jumpAction struct {
	span
	Kind   []lexer.Token `parser:"@( \"jump\" | \"goto\" )"`
	Target *ident        `parser:"@@"`
}

type logAction struct {
	span
	Kw     []lexer.Token `parser:"@\"log\""`
	Prefix *str          `parser:"( \"prefix\" @@"`
	Level  *value        `parser:"| \"level\" @@"`
	Flags  []*ident      `parser:"| \"flags\" @@ ( \",\" EOL* @@ )* )*"`
}

type counterAction struct {
	span
	Kw []lexer.Token `parser:"@\"counter\""`
}

type markSetAction struct {
	span
	Kind  []lexer.Token `parser:"( @\"mark\" | @\"connmark\" | @\"ct\" \"mark\" ) \"set\""`
	Value *value        `parser:"@@"`
}

type connmarkAction struct {
	span
	Op   []lexer.Token `parser:"\"connmark\" @( \"save\" | \"restore\" )"`
	Mask *value        `parser:"( \"mask\" @@ )?"`
}

type routeAction struct {
	span
	Name *ident `parser:"\"route\" @@"`
}

type natAction struct {
	span
	Kind  []lexer.Token `parser:"@( \"snat\" | \"dnat\" | \"masquerade\" | \"redirect\" )"`
	To    *value        `parser:"( \"to\" \":\"? @@ )?"`
	Flags []*natFlag    `parser:"@@*"`
}

type natFlag struct {
	span
	Name string `parser:"@( \"random\" | \"random-fully\" | \"persistent\" )"`
}

type simpleAction struct {
	span
	Kind []lexer.Token `parser:"@( \"notrack\" | \"trace\" )"`
}

type headerSetAction struct {
	span
	Field []lexer.Token `parser:"@( \"tos\" | \"ttl\" ) \"set\""`
	Value *value        `parser:"@@"`
}

func (*includeDecl) isDecl() {}
func (*defineDecl) isDecl()  {}
func (*zoneDecl) isDecl()    {}
func (*serviceDecl) isDecl() {}
func (*setDecl) isDecl()     {}
func (*policyDecl) isDecl()  {}
func (*zoneRule) isDecl()    {}
func (*tableDecl) isDecl()   {}
func (*routeDecl) isDecl()   {}
func (*balanceDecl) isDecl() {}
func (*assertDecl) isDecl()  {}
func (*sysctlDecl) isDecl()  {}

func (*concatMatch) isMatch()      {}
func (*addrMatch) isMatch()        {}
func (*protoMatch) isMatch()       {}
func (*tcpFlagsMatch) isMatch()    {}
func (*portMatch) isMatch()        {}
func (*ifaceMatch) isMatch()       {}
func (*serviceMatch) isMatch()     {}
func (*icmpMatch) isMatch()        {}
func (*ctMatch) isMatch()          {}
func (*markMatch) isMatch()        {}
func (*familyMatch) isMatch()      {}
func (*limitMatch) isMatch()       {}
func (*meterMatch) isMatch()       {}
func (*connlimitMatch) isMatch()   {}
func (*timeMatch) isMatch()        {}
func (*probabilityMatch) isMatch() {}
func (*stringMatch) isMatch()      {}

func (*verdictAction) isAction()   {}
func (*jumpAction) isAction()      {}
func (*logAction) isAction()       {}
func (*counterAction) isAction()   {}
func (*markSetAction) isAction()   {}
func (*connmarkAction) isAction()  {}
func (*routeAction) isAction()     {}
func (*natAction) isAction()       {}
func (*simpleAction) isAction()    {}
func (*headerSetAction) isAction() {}

// Grammar returns the EBNF of the grammar (participle's Parser.String()).
func Grammar() string { return parser.String() }
