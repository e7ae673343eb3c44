package jsonfmt

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces the package doc: the decoder must not fall back to
// encoding/json, and the package imports only the engine's contracts.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/arroyogo/arroyo/engine/types":     true,
		"github.com/arroyogo/arroyo/engine/coldata":   true,
		"github.com/arroyogo/arroyo/engine/connector": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case path == "encoding/json":
				t.Errorf("%s imports encoding/json", name)
			case strings.Contains(path, ".") && !allowed[path]:
				t.Errorf("%s imports %s; only %v are allowed", name, path, allowed)
			}
		}
	}
}
