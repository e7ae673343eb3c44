package engine

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/arroyogo/arroyo/"

// layering is an allow-list: for each package of the repository, the module
// packages it may import (a pattern ending in "/..." allows that folder's
// package and every package below it). A package without an entry fails the
// test, so a new package starts constrained and its place in the layers is
// decided when it is written. Internal test files count; external test
// packages (package x_test) are exempt, since they may need a bundle of
// connectors the way cmd does. It is the architecture of
// docs/ARCHITECTURE.md, enforced.
var layering = []struct {
	dir     string
	allowed []string
	// std lists standard-library packages the package's non-test code must
	// not use.
	std []string
}{
	// The engine, bottom up. It imports nothing above it.
	{"engine/types", nil, nil},
	{"engine/timefmt", nil, nil},
	{"engine/memory", nil, nil},
	{"engine/coldata", []string{"engine/types", "engine/memory"}, nil},
	{"engine/connector", []string{"engine/types", "engine/coldata", "engine/program"}, nil},
	// Keyed state and the key-group functions: below operators and the
	// runtime, beside coldata.
	{"engine/state", []string{"engine/types", "engine/coldata"}, nil},
	// The program is the wire contract: it depends on nothing but types.
	{"engine/program", []string{"engine/types"}, nil},
	{"engine/expr", []string{"engine/types", "engine/timefmt", "engine/memory", "engine/coldata", "engine/program"}, nil},
	{"engine/ops", []string{"engine/types", "engine/memory", "engine/coldata", "engine/connector", "engine/program", "engine/expr", "engine/state"}, nil},
	{"engine/dataflow", []string{"engine/types", "engine/memory", "engine/coldata", "engine/connector", "engine/program", "engine/expr", "engine/ops", "engine/state"}, nil},
	// Durable checkpoints: the runtime's snapshot handles to files and back.
	{"engine/checkpoint", []string{"engine/types", "engine/coldata", "engine/connector", "engine/program", "engine/ops", "engine/state", "engine/dataflow"}, nil},
	// The planner produces a program (data); it never imports operators or
	// the runtime. The dialect is the planner's front end and knows nothing
	// of the engine.
	{"sqlplan/dialect", nil, nil},
	{"sqlplan", []string{"sqlplan/dialect", "engine/types", "engine/connector", "engine/program", "engine/expr", "engine/state"}, nil},
	// Connectors import only the engine's connector API and data, and
	// never each other; only connectors/all gathers them.
	{"connectors/nexmark", []string{"engine/types", "engine/coldata", "engine/connector"}, nil},
	{"connectors/impulse", []string{"engine/types", "engine/coldata", "engine/connector"}, nil},
	{"connectors/singlefile", []string{"engine/types", "engine/coldata", "engine/connector"}, nil},
	{"connectors/stdout", []string{"engine/types", "engine/coldata", "engine/connector"}, nil},
	{"connectors/preview", []string{"engine/types", "engine/coldata", "engine/connector"}, nil},
	{"connectors/blackhole", []string{"engine/types", "engine/coldata", "engine/connector"}, nil},
	{"connectors/filesystem", []string{"engine/types", "engine/coldata", "engine/connector"}, nil},
	// The json format decodes with its own scanner: encoding/json is ~5x
	// too slow for the hot path. debezium_json reads the change kinds from
	// engine/program (data, as engine/connector's Table is).
	{"connectors/jsonfmt", []string{"engine/types", "engine/timefmt", "engine/coldata", "engine/connector", "engine/program"}, []string{"encoding/json"}},
	// The avro format: hamba/avro parses schemas; decoding into columns is
	// its own.
	{"connectors/avro", []string{"engine/types", "engine/timefmt", "engine/coldata", "engine/connector", "engine/program"}, nil},
	// The schema registry client is a library over the formats (Confluent
	// framing, per-id writer schemas) that the kafka connectors use; it is
	// not a connector and registers nothing.
	{"connectors/schemareg", []string{"engine/types", "engine/coldata", "engine/connector", "engine/program", "connectors/avro", "connectors/jsonfmt"}, nil},
	// Kafka and Confluent: franz-go plus the connector API.
	{"connectors/kafka", []string{"engine/types", "engine/coldata", "engine/connector", "connectors/schemareg"}, nil},
	{"connectors/all", []string{"connectors/..."}, nil},
	// The conformance suite runs whole pipelines (planner + runtime)
	// against Kafka clusters; providers build its targets. Never cmd or
	// the control plane.
	{"conformance", []string{"connectors/...", "sqlplan", "engine/..."}, nil},
	{"conformance/kfakeprov", []string{"conformance"}, nil},
	// The control plane plans and schedules; it never imports connectors
	// (cmd chooses the bundle).
	{"controlplane/config", nil, nil},
	// The metadata store knows only its database drivers.
	{"controlplane/store", nil, nil},
	{"controlplane/store/storetest", nil, nil},
	// The REST API plans SQL for diagnostics and reads the connector
	// declarations; the pipelines' runner is an interface it defines.
	{"controlplane/api", []string{"controlplane/store", "controlplane/config", "sqlplan", "sqlplan/dialect", "engine/connector", "engine/program", "engine/types", "engine/expr", "engine/coldata"}, nil},
	{"controlplane/client", []string{"controlplane/api"}, nil},
	{"controlplane/controller", []string{"controlplane/config", "sqlplan", "engine/program", "engine/checkpoint", "engine/expr"}, nil},
	{"controlplane/scheduler", []string{"controlplane/controller", "engine/program", "engine/dataflow", "engine/checkpoint"}, nil},
	// The api.Runner of arroyo cluster: jobs on a controller, recorded in the store.
	{"controlplane/cluster", []string{"controlplane/api", "controlplane/controller", "controlplane/scheduler", "controlplane/store", "engine/checkpoint", "engine/dataflow", "engine/expr", "engine/program"}, nil},
	{"cmd/arroyo", []string{"connectors/all", "connectors/kafka", "connectors/preview", "controlplane/...", "engine/...", "conformance", "udf/wasm/..."}, nil},
	// The SQL spec cases run whole pipelines through the public surface.
	{"spec", []string{"connectors/...", "controlplane/...", "sqlplan/...", "engine/...", "udf/..."}, nil},
	// Folders that hold only a package doc today (the wasm host and the
	// conformance suite arrive with their issues and get their rules then).
	{"engine", nil, nil},
	{"connectors", nil, nil},
	{"controlplane", nil, nil},
	{"udf", nil, nil},
	// Finds the real broker conformance/kafka/broker.sh starts; its tests
	// also drive the schema registry client against it.
	{"conformance/kafka", []string{"connectors/schemareg", "engine/types", "engine/coldata"}, nil},
	{"conformance/kafka/srfake", nil, nil},
	// The wasm host registers UDFs into the engine's function registry;
	// the guest SDK and the example UDFs are modules of their own that
	// import nothing of this one (but the SDK).
	{"udf/wasm", []string{"engine/types", "engine/coldata", "engine/expr"}, nil},
	{"udf/wasm/wasmtest", nil, nil},
	// The adapter of the wasm host to the API's UDFHost: udf code the control
	// plane reaches only through that interface (cmd wires it in).
	{"udf/wasm/apihost", []string{"udf/wasm", "controlplane/api", "controlplane/store", "engine/expr"}, nil},
	{"udf/sdk/go", nil, nil},
	{"examples/udfs/go/scalars", []string{"udf/sdk/go"}, nil},
	{"examples/udfs/go/reverse", []string{"udf/sdk/go"}, nil},
	{"examples/udfs/go/median", []string{"udf/sdk/go"}, nil},
	{"spec/udfs/go/hostile", []string{"udf/sdk/go"}, nil},
	{"spec/udfs/go/clash", []string{"udf/sdk/go"}, nil},
	{"spec/udfs/go/timetime", []string{"udf/sdk/go"}, nil},
}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]int{}
	for i, r := range layering {
		rules[r.dir] = i
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if strings.HasSuffix(f.Name.Name, "_test") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		isTest := strings.HasSuffix(path, "_test.go")
		var mods []string
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) {
				mods = append(mods, strings.TrimPrefix(p, module))
			}
		}
		ri, ok := rules[dir]
		if !ok {
			if !isTest || len(mods) > 0 {
				t.Errorf("package %s has no layering rule: add what it may import to engine/dep_test.go", dir)
			}
			return nil
		}
		rule := layering[ri]
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if slices.Contains(rule.std, p) && !isTest {
				t.Errorf("%s imports %s, which %s must not use", rel, p, dir)
			}
		}
		for _, m := range mods {
			if !allowed(rule.allowed, m) {
				t.Errorf("%s imports %s: %s may import only %v", rel, m, dir, rule.allowed)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no Go files checked")
	}
}

func allowed(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if pkg == p {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "/..."); ok && (pkg == prefix || strings.HasPrefix(pkg, prefix+"/")) {
			return true
		}
	}
	return false
}
