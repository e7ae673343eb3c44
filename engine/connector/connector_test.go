package connector

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// seq makes registry names unique, so tests can run with -count=N against
// the process-wide registries.
var seq atomic.Int64

func uniqueName(prefix string) string { return fmt.Sprintf("%s_%d", prefix, seq.Add(1)) }

// mustPanic runs f and returns the panic message, failing if f returns.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic")
		}
		msg = fmt.Sprint(r)
	}()
	f()
	return ""
}

func TestRegisterPanics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		options []Option
		want    string // substring of the panic
	}{
		{"bad int default", []Option{{Name: "n", Type: TypeInt, Default: "ten"}}, "bad default: X: invalid value 'ten' for option 'n': expected an integer"},
		{"default below min", []Option{{Name: "n", Type: TypeInt, Default: "0", Min: 1, MinSet: true}}, "must be at least 1"},
		{"bad enum default", []Option{{Name: "m", Type: TypeEnum, Enum: []string{"a", "b"}, Default: "c"}}, "allowed values are 'a', 'b'"},
		{"bad duration default", []Option{{Name: "d", Type: TypeDuration, Default: "-1s"}}, "expected a duration"},
		{"bad bool default", []Option{{Name: "b", Type: TypeBool, Default: "yes"}}, "expected 'true' or 'false'"},
		{"bad float default", []Option{{Name: "f", Type: TypeFloat, Default: "x"}}, "expected a number"},
		{"option declared twice", []Option{{Name: "a", Type: TypeString}, {Name: "a", Type: TypeInt}}, `declares option "a" twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueName("test_bad")
			msg := mustPanic(t, func() { Register(&Connector{Name: name, Options: tc.options}) })
			if want := strings.ReplaceAll(tc.want, "X", name); !strings.Contains(msg, want) {
				t.Fatalf("Register panicked with %q, want it to contain %q", msg, want)
			}
			// A connector that failed its declaration is not registered.
			if _, ok := Lookup(name); ok {
				t.Fatal("a connector whose declaration panicked was registered")
			}
			fname := uniqueName("test_badfmt")
			msg = mustPanic(t, func() { RegisterFormat(&Format{Name: fname, Options: tc.options}) })
			if want := strings.ReplaceAll(tc.want, "X", fname); !strings.Contains(msg, want) {
				t.Fatalf("RegisterFormat panicked with %q, want it to contain %q", msg, want)
			}
			if _, ok := LookupFormat(fname); ok {
				t.Fatal("a format whose declaration panicked was registered")
			}
		})
	}
}

func TestRegisterDuplicate(t *testing.T) {
	name := uniqueName("test_dup")
	first := &Connector{Name: name, Options: []Option{{Name: "n", Type: TypeInt, Default: "3"}}}
	Register(first)
	msg := mustPanic(t, func() { Register(&Connector{Name: name}) })
	if want := fmt.Sprintf("connector %q registered twice", name); msg != want {
		t.Fatalf("panic %q, want %q", msg, want)
	}
	if c, ok := Lookup(name); !ok || c != first {
		t.Fatal("the duplicate replaced the first registration")
	}

	fname := uniqueName("test_dupfmt")
	ffirst := &Format{Name: fname}
	RegisterFormat(ffirst)
	msg = mustPanic(t, func() { RegisterFormat(&Format{Name: fname}) })
	if want := fmt.Sprintf("format %q registered twice", fname); msg != want {
		t.Fatalf("panic %q, want %q", msg, want)
	}
	if f, ok := LookupFormat(fname); !ok || f != ffirst {
		t.Fatal("the duplicate replaced the first format")
	}
	// Connectors and formats are separate namespaces.
	Register(&Connector{Name: fname})
}

func TestLookupAndNames(t *testing.T) {
	n := seq.Add(1)
	var names, fnames []string
	for _, p := range []string{"zz", "aa", "mm"} {
		name := fmt.Sprintf("test_%s_%d", p, n)
		Register(&Connector{Name: name, Description: p})
		names = append(names, name)
		fname := fmt.Sprintf("test_fmt_%s_%d", p, n)
		RegisterFormat(&Format{Name: fname, Description: p})
		fnames = append(fnames, fname)
	}
	for i, name := range names {
		c, ok := Lookup(name)
		if !ok || c.Name != name {
			t.Fatalf("Lookup(%q) = %v, %v", name, c, ok)
		}
		f, ok := LookupFormat(fnames[i])
		if !ok || f.Name != fnames[i] {
			t.Fatalf("LookupFormat(%q) = %v, %v", fnames[i], f, ok)
		}
	}
	if _, ok := Lookup("test_never_registered"); ok {
		t.Fatal("Lookup found an unregistered connector")
	}
	if _, ok := LookupFormat("test_never_registered"); ok {
		t.Fatal("LookupFormat found an unregistered format")
	}
	for _, tc := range []struct {
		got, want []string
	}{{Names(), names}, {FormatNames(), fnames}} {
		if !slices.IsSorted(tc.got) {
			t.Fatalf("names not sorted: %v", tc.got)
		}
		for _, w := range tc.want {
			if !slices.Contains(tc.got, w) {
				t.Fatalf("%q missing from %v", w, tc.got)
			}
		}
	}
}
