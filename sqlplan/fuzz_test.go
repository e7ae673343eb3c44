package sqlplan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/sqlplan"
)

// FuzzPlan checks that no input makes the planner panic: every bad query
// must come back as an error. Seeds are the spec cases and plan cases.
//
//	go test ./sqlplan -run '^$' -fuzz FuzzPlan -fuzztime 60s
func FuzzPlan(f *testing.F) {
	for _, pattern := range []string{"../spec/queries/*.sql", "testdata/plans/*.sql"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(strings.ReplaceAll(string(data), "$input_dir", "/nonexistent"))
		}
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
