package lang

// The parser reads the generic fields that package policy declares at init
// (ast.DeclareField): the language documentation and the examples use them,
// so this package's tests link policy in as every program that checks a
// policy does.
import _ "github.com/fwcproject/fwc/policy"
