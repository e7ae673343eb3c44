package expr

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDependencies enforces the layering: expr sits on types, coldata and
// program and must not reach up into the runtime, operators or anything
// outside the engine.
func TestDependencies(t *testing.T) {
	const module = "github.com/arroyogo/arroyo/"
	allowed := map[string]bool{
		module + "engine/types":   true,
		module + "engine/coldata": true,
		module + "engine/program": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module) && !allowed[path] {
				t.Errorf("%s imports %s; engine/expr may only import %v", name, path, keys(allowed))
			}
			if strings.Contains(path, ".") && !strings.HasPrefix(path, module) {
				t.Errorf("%s imports third-party package %s", name, path)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, strings.TrimPrefix(k, "github.com/arroyogo/arroyo/"))
	}
	return out
}
