package connector

import (
	"errors"
	"fmt"
	"github.com/arroyogo/arroyo/engine/program"
	"math"
	"strconv"
	"strings"
	"time"
)

// OptionType is the type of an option's value. Values are always written as
// SQL strings; the type says how they are parsed and validated.
type OptionType string

const (
	TypeString   OptionType = "string"
	TypeInt      OptionType = "int"
	TypeFloat    OptionType = "float"
	TypeBool     OptionType = "bool"
	TypeEnum     OptionType = "enum"
	TypeDuration OptionType = "duration" // Go syntax ("10s") or a number of seconds
)

// Option declares one connector or format option. The declaration is the one
// place that validates DDL options and describes them to the API and docs.
type Option struct {
	Name        string     `json:"name"`
	Type        OptionType `json:"type"`
	Description string     `json:"description"`
	// Default is the value used when the option is absent ("" = none).
	Default  string   `json:"default,omitempty"`
	Required bool     `json:"required,omitempty"`
	Secret   bool     `json:"secret,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Example  string   `json:"example,omitempty"`
	// Min bounds int and float options from below when MinSet is true.
	Min    float64 `json:"min,omitempty"`
	MinSet bool    `json:"-"`
}

// Options is a validated set of option values (program.Options).
type Options = program.Options

// OptionError is a bad option: it names the option and what is allowed, so
// a person can fix it. The planner reports it at the option's value, or at
// its key when Unknown (nobody declared the option).
type OptionError struct {
	Owner   string // connector or format name
	Option  string
	Value   string
	Problem string
	Unknown bool
}

func (e *OptionError) Error() string {
	if e.Unknown {
		return fmt.Sprintf("%s: unknown option '%s' (%s)", e.Owner, e.Option, e.Problem)
	}
	if e.Value == "" {
		return fmt.Sprintf("%s: option '%s' %s", e.Owner, e.Option, e.Problem)
	}
	return fmt.Sprintf("%s: invalid value '%s' for option '%s': %s", e.Owner, e.Value, e.Option, e.Problem)
}

// ErrUnknownOption is what errors.Is finds in an OptionError for an option
// nobody declared.
var ErrUnknownOption = errors.New("unknown option")

// Is makes errors.Is(err, ErrUnknownOption) true for unknown options.
func (e *OptionError) Is(target error) bool { return e.Unknown && target == ErrUnknownOption }

// Validate checks the given raw options against specs: every option must be
// declared, required ones present, values of the declared type. It returns
// the options with defaults filled in. Options consumed elsewhere (e.g. by
// the planner) must be removed from given before calling.
func Validate(owner string, specs []Option, given map[string]string) (Options, error) {
	out := Options{}
	for name, v := range given {
		spec := findOption(specs, name)
		if spec == nil {
			problem := owner + " takes no options"
			if len(specs) > 0 {
				names := make([]string, len(specs))
				for i, s := range specs {
					names[i] = s.Name
				}
				problem = "known options: " + strings.Join(names, ", ")
			}
			return nil, &OptionError{Owner: owner, Option: name, Value: v, Problem: problem, Unknown: true}
		}
		if err := spec.check(owner, v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	for _, s := range specs {
		if _, ok := out[s.Name]; ok {
			continue
		}
		if s.Required {
			return nil, &OptionError{Owner: owner, Option: s.Name, Problem: "is required" + s.hint()}
		}
		if s.Default != "" {
			out[s.Name] = s.Default
		}
	}
	return out, nil
}

func findOption(specs []Option, name string) *Option {
	for i := range specs {
		if specs[i].Name == name {
			return &specs[i]
		}
	}
	return nil
}

func (s *Option) hint() string {
	switch {
	case s.Type == TypeEnum:
		return " (one of " + quoteList(s.Enum) + ")"
	case s.Example != "":
		return " (for example '" + s.Example + "')"
	}
	return ""
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

// CaseHint is the note for a value that matches one of allowed but for
// its case: values are case-sensitive, as in Arroyo ("; values are
// case-sensitive: did you mean 'impulse'?"), or "" when none matches.
func CaseHint(v string, allowed []string) string {
	for _, a := range allowed {
		if a != v && strings.EqualFold(a, v) {
			return "; values are case-sensitive: did you mean '" + a + "'?"
		}
	}
	return ""
}

func (s *Option) check(owner, v string) error {
	bad := func(problem string) error {
		return &OptionError{Owner: owner, Option: s.Name, Value: v, Problem: problem}
	}
	switch s.Type {
	case TypeString:
		if s.Required && v == "" {
			return bad("must not be empty")
		}
	case TypeInt:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return bad("expected an integer")
		}
		if s.MinSet && float64(n) < s.Min {
			return bad(fmt.Sprintf("must be at least %v", s.Min))
		}
	case TypeFloat:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) { // NaN would also pass any Min
			return bad("expected a number")
		}
		if s.MinSet && f < s.Min {
			return bad(fmt.Sprintf("must be at least %v", s.Min))
		}
	case TypeBool:
		if _, err := strconv.ParseBool(v); err != nil {
			return bad("expected 'true' or 'false'")
		}
	case TypeEnum:
		for _, e := range s.Enum {
			if v == e {
				return nil
			}
		}
		return bad("allowed values are " + quoteList(s.Enum) + CaseHint(v, s.Enum))
	case TypeDuration:
		if _, err := ParseDuration(v); err != nil {
			return bad("expected a duration such as '10s', '500ms' or a number of seconds")
		}
	}
	return nil
}

func checkOptions(owner string, specs []Option) {
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.Name] {
			panic(fmt.Sprintf("%s declares option %q twice", owner, s.Name))
		}
		seen[s.Name] = true
		if s.Default != "" {
			if err := s.check(owner, s.Default); err != nil {
				panic(fmt.Sprintf("%s: bad default: %v", owner, err))
			}
		}
	}
}

// ParseDuration parses Go duration syntax or a plain number of seconds (see
// program.ParseDuration, where option values are read).
func ParseDuration(v string) (time.Duration, error) { return program.ParseDuration(v) }
