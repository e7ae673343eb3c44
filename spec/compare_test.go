package spec

import (
	"strings"
	"testing"
)

func rows(t *testing.T, lines ...string) []Row {
	t.Helper()
	out := make([]Row, len(lines))
	for i, l := range lines {
		r, err := ParseRow(l, i+1)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

func TestCompareStrictTypes(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		equal     bool
		loose     bool
	}{
		{`{"a": 1}`, `{"a":1}`, true, false},
		{`{"a": 1, "b": "x"}`, `{"b":"x","a":1}`, true, false}, // key order
		{`{"a": 1}`, `{"a":1.0}`, false, false},                // BIGINT against DOUBLE
		{`{"a": 1.0}`, `{"a":1}`, false, false},
		{`{"a": 1}`, `{"a":1e0}`, false, false},
		{`{"a": 1.5}`, `{"a":1.50}`, true, false}, // doubles by value
		{`{"a": 1500.0}`, `{"a":1.5e3}`, true, false},
		{`{"a": 0.0}`, `{"a":-0.0}`, false, false},
		{`{"a": 1}`, `{"a":"1"}`, false, false},
		{`{"a": null}`, `{}`, false, false},
		{`{"a": [1, 2]}`, `{"a":[1,2.0]}`, false, false},
		{`{"a": {"b": 1}}`, `{"a":{"b":1}}`, true, false},
		{`{"t": "2023-01-01T00:00:00Z"}`, `{"t":"2023-01-01T00:00:00+00:00"}`, false, false}, // timestamps as text
		{`{"a": 123456789012345678901234567890}`, `{"a":123456789012345678901234567891}`, false, false},
		{`{"a": 1}`, `{"a":1.0}`, true, true},
		{`{"a": 0.1}`, `{"a":0.10}`, true, true},
		{`{"a": 1}`, `{"a":"1"}`, false, true},
	} {
		err := Comparer{Loose: tc.loose}.Diff(rows(t, tc.want), rows(t, tc.got))
		if (err == nil) != tc.equal {
			t.Errorf("loose=%v: %s against %s: equal=%v, want %v (%v)", tc.loose, tc.want, tc.got, err == nil, tc.equal, err)
		}
	}
}

func TestCompareMultisetAndMessage(t *testing.T) {
	c := Comparer{}
	if err := c.Diff(rows(t, `{"a":1}`, `{"a":2}`), rows(t, `{"a":2}`, `{"a":1}`)); err != nil {
		t.Errorf("order must not matter: %v", err)
	}
	err := c.Diff(rows(t, `{"a":1}`, `{"a":1}`), rows(t, `{"a":1}`))
	if err == nil || !strings.Contains(err.Error(), "1 missing, 0 unexpected") {
		t.Errorf("a duplicate row is a row: %v", err)
	}
	err = c.Diff(rows(t, `{"id": 1, "x": 1, "s": "a"}`, `{"id": 2, "x": 2, "s": "b"}`),
		rows(t, `{"id":9,"x":9,"s":"z"}`, `{"id":1,"x":1.0,"s":"a"}`))
	if err == nil {
		t.Fatal("no difference found")
	}
	for _, want := range []string{
		"want 2 rows, got 2: 2 missing, 2 unexpected",
		"case line 1: {\"id\": 1, \"x\": 1, \"s\": \"a\"}",
		"output line 2: {\"id\":1,\"x\":1.0,\"s\":\"a\"}",
		"closest output row (output line 2)",
		"x: want 1, got 1.0",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "id: want") {
		t.Errorf("message names a field that matches:\n%v", err)
	}
}

func TestReplayFinalState(t *testing.T) {
	c := Comparer{}
	got, err := c.Replay(rows(t,
		`{"before":null,"after":{"k":1,"v":"a"},"op":"c"}`,
		`{"before":null,"after":{"k":2,"v":"b"},"op":"c"}`,
		`{"before":{"k":1,"v":"a"},"after":{"k":1,"v":"a2"},"op":"u"}`,
		`{"before":{"k":2,"v":"b"},"after":null,"op":"d"}`,
		`{"before":null,"after":{"k":2,"v":"b2"},"op":"c"}`,             // re-create after delete
		`{"before":{"k":1,"v":"a2"},"after":{"k":3,"v":"a3"},"op":"u"}`, // key change
	), []string{"k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Diff(rows(t, `{"k":2,"v":"b2"}`, `{"k":3,"v":"a3"}`), got); err != nil {
		t.Fatal(err)
	}
}

// TestReplayRejectsBadChangelogs feeds the comparator changelogs that a
// lenient replay would accept and expects each to fail.
func TestReplayRejectsBadChangelogs(t *testing.T) {
	create1 := `{"before":null,"after":{"k":1,"v":1},"op":"c"}`
	for _, tc := range []struct {
		name    string
		changes []string
		want    string
	}{
		{"create of an existing key", []string{create1, `{"before":null,"after":{"k":1,"v":2},"op":"c"}`},
			"line 2: create of key [int(1)], which exists"},
		{"update whose before is not current", []string{create1, `{"before":{"k":1,"v":7},"after":{"k":1,"v":2},"op":"u"}`},
			`line 2: op "u": before {"k":1,"v":7} is not the current row {"k":1,"v":1}`},
		{"update whose before differs in type", []string{create1, `{"before":{"k":1,"v":1.0},"after":{"k":1,"v":2},"op":"u"}`},
			"is not the current row"},
		{"update of a missing key", []string{`{"before":{"k":1,"v":1},"after":{"k":1,"v":2},"op":"u"}`},
			"which does not exist"},
		{"delete of a deleted key", []string{create1, `{"before":{"k":1,"v":1},"after":null,"op":"d"}`, `{"before":{"k":1,"v":1},"after":null,"op":"d"}`},
			"line 3: op \"d\" on key [int(1)], which does not exist"},
		{"delete whose before is not current", []string{create1, `{"before":{"k":1,"v":9},"after":null,"op":"d"}`},
			"is not the current row"},
		{"update without before", []string{create1, `{"before":null,"after":{"k":1,"v":2},"op":"u"}`},
			`op "u" without before`},
		{"create without after", []string{`{"before":null,"after":null,"op":"c"}`}, `op "c" without after`},
		{"update onto an existing key", []string{create1, `{"before":null,"after":{"k":2,"v":1},"op":"c"}`,
			`{"before":{"k":2,"v":1},"after":{"k":1,"v":5},"op":"u"}`}, "update moves key [int(2)] onto [int(1)], which exists"},
		{"unknown op", []string{`{"before":null,"after":{"k":1},"op":"x"}`}, `op "x"`},
		{"plain row", []string{`{"k":1,"v":1}`}, "not a changelog row"},
		{"key column missing", []string{`{"before":null,"after":{"v":1},"op":"c"}`}, `key column "k" missing`},
	} {
		_, err := Comparer{}.Replay(rows(t, tc.changes...), []string{"k"})
		if err == nil {
			t.Errorf("%s: replay accepted it", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.name, err, tc.want)
		}
	}
}

func TestReplayCompositeKey(t *testing.T) {
	got, err := Comparer{}.Replay(rows(t,
		`{"before":null,"after":{"a":1,"b":"x","v":1},"op":"c"}`,
		`{"before":null,"after":{"a":1,"b":"y","v":2},"op":"c"}`, // same a, other b: another key
	), []string{"a", "b"})
	if err != nil || len(got) != 2 {
		t.Fatalf("got %d rows, %v", len(got), err)
	}
	if err := (Comparer{}).UniqueKeys(rows(t, `{"a":1,"b":"x"}`, `{"a":1,"b":"x","v":3}`), []string{"a", "b"}); err == nil ||
		!strings.Contains(err.Error(), "repeats line 1") {
		t.Fatalf("duplicate expected key: %v", err)
	}
}
