package expr

import "github.com/arroyogo/arroyo/engine/coldata"

// allocs is embedded by the evaluators and accumulators that allocate
// vectors: al is the allocator they allocate through (nil: unaccounted).
// The compiler sets an evaluator's (the task's allocator at the root of an
// expression, the expression's scratch allocator below it); an operator
// sets an accumulator's through AllocatorUser.
type allocs struct{ al *coldata.Allocator }

// SetAllocator sets the allocator the value allocates its vectors through.
func (a *allocs) SetAllocator(al *coldata.Allocator) { a.al = al }

// AllocatorUser is implemented by accumulators (and evaluators) that
// allocate vectors: the operator gives them its task's allocator once,
// after New. Accumulators that do not implement it (UDAFs of the wasm host
// today) allocate on their own.
type AllocatorUser interface {
	SetAllocator(al *coldata.Allocator)
}
