package sqlplan

import (
	"slices"
	"testing"
)

func TestCloseNames(t *testing.T) {
	names := []string{"+", "~*", "__cast", "abs", "concat", "concat_ws", "json_get", "json_get_str", "json_get_int",
		"length", "lower", "ltrim", "upper", "regexp_like", "regexp_match", "regexp_replace", "to_timestamp", "to_timestamp_millis"}
	cases := []struct {
		name string
		want []string
	}{
		{"uper", []string{"upper"}},
		{"UPER", []string{"upper"}},
		{"lenght", []string{"length"}},
		{"lowr", []string{"lower"}},
		{"concatws", []string{"concat_ws", "concat"}},
		{"json_gett", []string{"json_get", "json_get_int", "json_get_str"}},
		{"regexp", []string{"regexp_like", "regexp_match", "regexp_replace"}},
		{"to_timestmp", []string{"to_timestamp"}},
		{"frobnicate", nil},
		{"ab", []string{"abs"}},
		{"cast", nil}, // __cast is internal
		{"x", nil},
	}
	for _, c := range cases {
		if got := closeNames(c.name, names, 3); !slices.Equal(got, c.want) {
			t.Errorf("closeNames(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"uper", "upper", 1}, {"abc", "abc", 0}, {"ab", "ba", 2},
	} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
