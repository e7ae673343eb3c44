package expr

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/types"
)

// Kernel computes a function over whole vectors. args all have physical
// length n; only the rows listed in sel (all rows when sel is nil) need to
// be computed, the others may hold anything. The result must have length n
// and be a new vector (or one of args, unchanged): batches are immutable.
// Kernels handle NULLs themselves.
type Kernel func(args []coldata.Vector, n int, sel []int32) (coldata.Vector, error)

// Resolved is a function bound to concrete argument types.
type Resolved struct {
	// Args are the types the kernel expects; where they differ from the
	// actual argument types the planner inserts casts.
	Args []types.Type
	// Result is the type of the kernel's output.
	Result types.Type
	// Kernel computes the function.
	Kernel Kernel
}

// Func is a scalar function. Resolve checks the argument types and picks an
// implementation; its error is shown to the user, so it names the expected
// types ("upper(TEXT) expects TEXT, got BIGINT").
type Func struct {
	Name        string
	Description string
	Resolve     func(args []types.Type) (*Resolved, error)
}

var (
	mu    sync.RWMutex
	funcs = map[string]*Func{}
)

// Register adds f to the function registry under its lower-cased name; a
// duplicate name panics.
func Register(f *Func) {
	mu.Lock()
	defer mu.Unlock()
	name := strings.ToLower(f.Name)
	if _, ok := funcs[name]; ok {
		panic(fmt.Sprintf("function %q registered twice", name))
	}
	funcs[name] = f
}

// Lookup returns the function called name (case-insensitive).
func Lookup(name string) (*Func, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := funcs[strings.ToLower(name)]
	return f, ok
}

// FuncNames returns all registered function names, sorted.
func FuncNames() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(funcs))
	for k := range funcs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
