package lang

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/fwcproject/fwc/ast"
	"github.com/fwcproject/fwc/diag"
)

// dump prints a node as an s-expression of every field except ranges, so
// that table tests state the whole tree without spelling out positions.
func dump(v any) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(v))
	return b.String()
}

var rangeType = reflect.TypeOf(diag.Range{})

func dumpValue(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		dumpValue(b, v.Elem())
		return
	case reflect.Slice:
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			dumpValue(b, v.Index(i))
		}
		b.WriteString("]")
		return
	case reflect.Struct:
	default:
		if v.Kind() == reflect.Uint8 {
			fmt.Fprintf(b, "%q", rune(v.Uint()))
			return
		}
		fmt.Fprintf(b, "%v", v.Interface())
		return
	}
	switch x := v.Interface().(type) {
	case ast.Ident:
		b.WriteString(x.Name)
		return
	case ast.Lit:
		s := fmt.Sprintf("%s:%q", x.Kind, x.Text)
		if x.Bracketed {
			s = "[" + s + "]"
		}
		b.WriteString(s)
		return
	case ast.Ref:
		fmt.Fprintf(b, "%c%s", x.Sigil, x.Name)
		return
	case ast.BinOp:
		b.WriteString("(")
		dumpValue(b, reflect.ValueOf(x.Left))
		b.WriteString(" " + x.Op + " ")
		dumpValue(b, reflect.ValueOf(x.Right))
		b.WriteString(")")
		return
	}
	t := v.Type()
	b.WriteString("(" + t.Name())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == rangeType {
			continue
		}
		fv := v.Field(i)
		if fv.IsZero() {
			continue
		}
		b.WriteString(" " + f.Name + "=")
		dumpValue(b, fv)
	}
	b.WriteString(")")
}
