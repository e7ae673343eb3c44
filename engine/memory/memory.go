// Package memory keeps memory accounts: counters of the bytes a part of the
// process allocated and still holds, rolled up a tree (the process root, a
// job under it, an operator subtask under the job).
//
// An account does not allocate or free anything: the allocator that hands
// out memory (coldata.Allocator) grows the account when it allocates and
// shrinks it when the garbage collector has reclaimed the memory. Growing or
// shrinking a child grows or shrinks every ancestor, so the root's Used is
// the live accounted bytes of the whole process.
//
// Accounts report; they do not refuse. The process-wide bound is the Go
// runtime's memory limit (cmd/arroyo/gc.go); an account's Limit is reported
// (Over) so a caller can shed load or fail with a message naming the
// operator, but Grow never fails.
//
// It imports nothing of this module.
package memory

import (
	"fmt"
	"sync/atomic"
)

// Process is the process's root account: jobs' accounts roll up to it
// unless their runner gives another.
var Process = NewRoot("process")

// Account is a node of the accounting tree. Its methods are safe for
// concurrent use: cleanups that shrink an account run on the runtime's
// cleanup goroutine, while its owner grows it.
type Account struct {
	name      string
	parent    *Account
	used      *atomic.Int64
	allocated *atomic.Int64
	limit     atomic.Int64
}

// NewRoot returns a root account (the process's), called name.
func NewRoot(name string) *Account {
	return &Account{name: name, used: new(atomic.Int64), allocated: new(atomic.Int64)}
}

// Child returns a new account under a, called name.
func (a *Account) Child(name string) *Account {
	return a.ChildWith(name, nil, nil)
}

// ChildWith is Child with the counters the account keeps its live and
// cumulative bytes in: a metrics registry's counters, so that reporting an
// account costs nothing. A nil counter is replaced by a private one.
func (a *Account) ChildWith(name string, used, allocated *atomic.Int64) *Account {
	if used == nil {
		used = new(atomic.Int64)
	}
	if allocated == nil {
		allocated = new(atomic.Int64)
	}
	return &Account{name: name, parent: a, used: used, allocated: allocated}
}

// Name returns the account's name.
func (a *Account) Name() string { return a.name }

// Parent returns the account a rolls up to (nil for a root).
func (a *Account) Parent() *Account { return a.parent }

// Path returns the names from the root down to a, joined by "/".
func (a *Account) Path() string {
	if a.parent == nil {
		return a.name
	}
	return a.parent.Path() + "/" + a.name
}

// Grow records that n more bytes are held (and were allocated) under a and
// every ancestor. n < 0 is treated as 0. A nil account ignores it.
func (a *Account) Grow(n int64) {
	if n <= 0 {
		return
	}
	for ; a != nil; a = a.parent {
		a.used.Add(n)
		a.allocated.Add(n)
	}
}

// Shrink records that n bytes held under a have been released. A nil
// account ignores it.
func (a *Account) Shrink(n int64) {
	if n <= 0 {
		return
	}
	for ; a != nil; a = a.parent {
		a.used.Add(-n)
	}
}

// Used returns the bytes held under a now (0 for a nil account).
func (a *Account) Used() int64 {
	if a == nil {
		return 0
	}
	return a.used.Load()
}

// Allocated returns the bytes ever allocated under a (0 for a nil
// account): Used plus everything released.
func (a *Account) Allocated() int64 {
	if a == nil {
		return 0
	}
	return a.allocated.Load()
}

// SetLimit sets the bytes a should hold at most (0: no limit).
func (a *Account) SetLimit(n int64) { a.limit.Store(n) }

// Limit returns a's limit (0: none).
func (a *Account) Limit() int64 {
	if a == nil {
		return 0
	}
	return a.limit.Load()
}

// Over returns an error naming the first account from a up to the root
// that holds more than its limit, or nil.
func (a *Account) Over() error {
	for ; a != nil; a = a.parent {
		if l := a.limit.Load(); l > 0 {
			if u := a.used.Load(); u > l {
				return &LimitError{Account: a.Path(), Used: u, Limit: l}
			}
		}
	}
	return nil
}

// LimitError says that an account holds more than its limit.
type LimitError struct {
	Account     string
	Used, Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("memory account %s holds %d bytes, over its limit of %d", e.Account, e.Used, e.Limit)
}
