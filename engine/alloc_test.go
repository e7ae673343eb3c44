package engine

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allocScope is the code that must allocate vectors through its task's
// coldata.Allocator, so that every vector an operator or kernel makes is
// charged to a memory account (docs/ARCHITECTURE.md, "Memory accounts").
var allocScope = []string{"engine/ops", "engine/expr"}

// allocForbidden maps what allocates a vector unaccounted to what to call
// instead (a is the task's *coldata.Allocator).
var allocForbidden = map[string]string{
	"New":      "a.New(t, n)",
	"NewBytes": "a.Bytes(t, n, dataCap) or a.BytesRows(t, n, dataCap)",
	"NewNulls": "a.Nulls(t, n)",
	"Gather":   "a.Gather(v, idx)",
	"Vec":      "coldata.AllocVec[T](a, t, n), coldata.AllocVecCap[T](a, t, n), or coldata.RetypeVec for a view",
	"Bytes":    "a.Bytes / a.BytesRows, or coldata.Retype for a view",
	"Struct":   "a.Struct(t, fields, n) or a.New(t, n)",
	"List":     "a.List(t, n, elems) or a.New(t, n)",
	"Compact":  "b.CompactWith(a)",
}

// TestVectorsAllocatedThroughAllocator fails on every non-test file of
// allocScope that builds a vector any other way than through an allocator:
// calling coldata.New, NewBytes, NewNulls or Gather, (*Batch).Compact, or
// writing a composite literal of coldata.Vec, Bytes, Struct or List. No file
// is exempt: the allocator's own code lives in engine/coldata, outside the
// scope.
func TestVectorsAllocatedThroughAllocator(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, dir := range allocScope {
		paths, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			files++
			rel, _ := filepath.Rel(root, path)
			for _, v := range allocViolations(t, path) {
				t.Errorf("%s:%s", rel, v)
			}
		}
	}
	if files == 0 {
		t.Fatal("no files checked")
	}
}

func allocViolations(t *testing.T, path string) []string {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The name the file imports coldata under.
	pkg := ""
	for _, imp := range f.Imports {
		if imp.Path.Value == `"`+module+`engine/coldata"` {
			pkg = "coldata"
			if imp.Name != nil {
				pkg = imp.Name.Name
			}
		}
	}
	var out []string
	report := func(n ast.Node, what, use string) {
		p := fset.Position(n.Pos())
		out = append(out, fmt.Sprintf("%d: %s allocates a vector without the task's allocator; use %s", p.Line, what, use))
	}
	// coldataSel returns the name X is in coldata.X (nil when e is not a
	// selector of the coldata package).
	coldataSel := func(e ast.Expr) string {
		if ix, ok := e.(*ast.IndexExpr); ok {
			e = ix.X
		}
		if ix, ok := e.(*ast.IndexListExpr); ok {
			e = ix.X
		}
		s, ok := e.(*ast.SelectorExpr)
		if !ok {
			return ""
		}
		if id, ok := s.X.(*ast.Ident); ok && pkg != "" && id.Name == pkg {
			return s.Sel.Name
		}
		return ""
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			switch name := coldataSel(n.Fun); name {
			case "New", "NewBytes", "NewNulls", "Gather":
				report(n, "coldata."+name, allocForbidden[name])
			}
			if s, ok := n.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "Compact" && len(n.Args) == 0 {
				report(n, "Compact()", allocForbidden["Compact"])
			}
		case *ast.CompositeLit:
			switch name := coldataSel(n.Type); name {
			case "Vec", "Bytes", "Struct", "List":
				report(n, "a coldata."+name+" literal", allocForbidden[name])
			}
		}
		return true
	})
	return out
}
