package sqlplan_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/arroyogo/arroyo/spec"
	"github.com/arroyogo/arroyo/sqlplan"
)

// FuzzPlan checks that no input makes the planner panic: every bad query
// must come back as an error. Seeds are the spec cases and plan cases.
//
//	go test ./sqlplan -run '^$' -fuzz FuzzPlan -fuzztime 60s
func FuzzPlan(f *testing.F) {
	cases, _ := filepath.Glob("../spec/cases/*.test")
	plans, _ := filepath.Glob("testdata/plans/*.sql")
	if len(cases) == 0 || len(plans) == 0 {
		f.Fatalf("no seeds: %d spec cases, %d plan cases", len(cases), len(plans))
	}
	for _, file := range cases {
		c, err := spec.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.Expand(func(name string) string { return "/nonexistent/" + name + ".json" },
			func(string) string { return "/nonexistent/out.json" }))
	}
	for _, file := range plans {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, sql string) {
		prog, err := sqlplan.Plan("fuzz.sql", sql, sqlplan.Options{Parallelism: 2, DefaultSink: "stdout"})
		if err == nil {
			if verr := prog.Validate(); verr != nil {
				t.Fatalf("planner returned an invalid program: %v\n%s", verr, sql)
			}
		} else if err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
