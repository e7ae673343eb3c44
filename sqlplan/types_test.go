package sqlplan_test

import (
	"strings"
	"testing"

	"github.com/arroyogo/arroyo/engine/types"
)

// TestPlanNewTypes: DATE, TIME and DECIMAL in casts and column
// definitions, with DataFusion's defaults, and their errors at the type.
func TestPlanNewTypes(t *testing.T) {
	for sel, want := range map[string]types.Type{
		"CAST(id AS DECIMAL)":               types.DecimalOf(38, 10),
		"CAST(id AS NUMERIC(7))":            types.DecimalOf(7, 0),
		"CAST(id AS DECIMAL(38, 38))":       types.DecimalOf(38, 38),
		"s::DATE":                           types.DateT,
		"CAST(s AS TIME(3))":                types.TimeT,
		"DATE '2024-01-31'":                 types.DateT,
		"CAST(id AS DECIMAL(5, 2)) + 1":     types.DecimalOf(23, 2),
		"CAST(id AS DECIMAL(5, 2)) * 1.5":   types.Float64T,
		"CAST(s AS DATE) - CAST(s AS DATE)": types.IntervalT,
	} {
		p, err := planProject(t, sel+" AS x")
		if err != nil {
			t.Errorf("%s: %v", sel, err)
			continue
		}
		if !p[0].Type.Equal(want) {
			t.Errorf("%s: type %s, want %s", sel, p[0].Type, want)
		}
	}
	for sel, want := range map[string]string{
		"CAST(id AS DECIMAL(0))":                                    "f.sql:2:8: DECIMAL precision must be 1 to 38, not 0",
		"CAST(id AS DECIMAL(39, 2))":                                "f.sql:2:8: DECIMAL precision must be 1 to 38, not 39",
		"CAST(id AS NUMERIC(5, 6))":                                 "f.sql:2:8: DECIMAL(5, 6): the scale must be at most the precision",
		"CAST(ts AS DECIMAL(5, 2))":                                 "f.sql:2:8: cannot cast TIMESTAMP to DECIMAL(5, 2)",
		"CAST(s AS DATE) * 2":                                       "operator * cannot combine DATE and BIGINT",
		"CAST(s AS TIME) + ts":                                      "operator + expects numeric operands",
		"CAST(id AS DECIMAL(38, 20)) * CAST(id AS DECIMAL(38, 20))": "the product's scale 40 exceeds 38",
	} {
		if _, err := planProject(t, sel+" AS x"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", sel, err, want)
		}
	}
}
