package engine

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/arroyogo/arroyo/"

// layering lists, for each folder of the repository, the module folders its
// code must not import. Internal test files count; external test packages
// (package x_test) are exempt, since they may need a bundle of connectors
// the way cmd does. It is the architecture of
// docs/ARCHITECTURE.md, enforced.
var layering = []struct {
	dir       string
	forbidden []string
	// std lists standard-library packages the folder's non-test code must
	// not use.
	std []string
}{
	{"engine", []string{"sqlplan", "connectors", "controlplane", "udf", "cmd", "conformance"}, nil},
	{"engine/timefmt", []string{"engine/types", "engine/coldata", "engine/expr", "engine/program", "engine/ops", "engine/runtime", "engine/connector"}, nil},
	{"engine/types", []string{"engine/coldata", "engine/expr", "engine/program", "engine/ops", "engine/runtime", "engine/connector"}, nil},
	{"engine/coldata", []string{"engine/expr", "engine/program", "engine/ops", "engine/runtime", "engine/connector"}, nil},
	{"engine/expr", []string{"engine/ops", "engine/runtime", "engine/connector"}, nil},
	{"engine/program", []string{"engine/ops", "engine/runtime", "engine/expr"}, nil},
	{"engine/ops", []string{"engine/runtime"}, nil},
	{"sqlplan", []string{"engine/ops", "engine/runtime", "connectors", "controlplane", "udf", "cmd"}, nil},
	{"connectors", []string{"sqlplan", "controlplane", "udf", "cmd", "engine/ops", "engine/runtime"}, nil},
	// Connectors are independent of each other; only connectors/all
	// gathers them.
	{"connectors/nexmark", []string{"connectors"}, nil},
	{"connectors/impulse", []string{"connectors"}, nil},
	{"connectors/singlefile", []string{"connectors"}, nil},
	{"connectors/stdout", []string{"connectors"}, nil},
	{"connectors/blackhole", []string{"connectors"}, nil},
	// The json format decodes with its own scanner: encoding/json is ~5x
	// too slow for the hot path.
	{"connectors/jsonfmt", []string{"connectors", "engine/expr", "engine/program"}, []string{"encoding/json"}},
	{"sqlplan/dialect", []string{"engine", "sqlplan", "connectors", "controlplane", "udf", "cmd"}, nil},
	{"controlplane", []string{"connectors", "udf", "cmd"}, nil},
	{"udf", []string{"sqlplan", "connectors", "controlplane", "cmd"}, nil},
}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, rule := range layering {
		dir := filepath.Join(root, rule.dir)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			if strings.HasSuffix(f.Name.Name, "_test") {
				return nil
			}
			checked++
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range rule.std {
					if p == bad && !strings.HasSuffix(path, "_test.go") {
						t.Errorf("%s imports %s, which %s must not use", strings.TrimPrefix(path, root+"/"), p, rule.dir)
					}
				}
				if !strings.HasPrefix(p, module) {
					continue
				}
				rel := strings.TrimPrefix(p, module)
				for _, bad := range rule.forbidden {
					if rel == bad || strings.HasPrefix(rel, bad+"/") {
						t.Errorf("%s imports %s: %s must not import %s", strings.TrimPrefix(path, root+"/"), p, rule.dir, bad)
					}
				}
			}
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "no such file") {
			t.Fatal(err)
		}
	}
	if checked == 0 {
		t.Fatal("no Go files checked")
	}
}
