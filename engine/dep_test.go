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
}{
	{"engine", []string{"sqlplan", "connectors", "controlplane", "udf", "cmd", "conformance"}},
	{"engine/types", []string{"engine/coldata", "engine/expr", "engine/program", "engine/ops", "engine/runtime", "engine/connector"}},
	{"engine/coldata", []string{"engine/expr", "engine/program", "engine/ops", "engine/runtime", "engine/connector"}},
	{"engine/expr", []string{"engine/ops", "engine/runtime", "engine/connector"}},
	{"engine/program", []string{"engine/ops", "engine/runtime", "engine/expr"}},
	{"engine/ops", []string{"engine/runtime"}},
	{"sqlplan", []string{"engine/ops", "engine/runtime", "connectors", "controlplane", "udf", "cmd"}},
	{"connectors", []string{"sqlplan", "controlplane", "udf", "cmd"}},
	{"controlplane", []string{"connectors", "udf", "cmd"}},
	{"udf", []string{"sqlplan", "connectors", "controlplane", "cmd"}},
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
