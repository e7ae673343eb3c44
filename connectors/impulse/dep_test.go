package impulse

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// TestImports enforces the layering in the package comment: connectors
// depend on the engine's connector API, columnar data and types only.
func TestImports(t *testing.T) {
	checkImports(t, "connectors/impulse", []string{
		"sqlplan", "controlplane", "udf", "cmd", "engine/runtime", "engine/ops", "connectors/",
	})
}

// checkImports walks the module-local imports of pkg (a path relative to
// the module root), directly and transitively, and fails on any under a
// forbidden prefix.
func checkImports(t *testing.T, pkg string, forbidden []string) {
	const module = "github.com/arroyogo/arroyo/"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(rel, from string)
	walk = func(rel, from string) {
		if seen[rel] {
			return
		}
		seen[rel] = true
		if rel != pkg {
			for _, f := range forbidden {
				if strings.HasPrefix(rel, f) {
					t.Errorf("%s imports %s (via %s), which it must not", pkg, rel, from)
				}
			}
		}
		p, err := build.ImportDir(filepath.Join(root, rel), 0)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module); ok {
				walk(dep, rel)
			}
		}
	}
	walk(pkg, pkg)
	if len(seen) < 2 {
		t.Fatalf("found no module-local imports of %s; is the walk broken?", pkg)
	}
}
