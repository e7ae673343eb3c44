package memory

import (
	"errors"
	"sync"
	"testing"
)

func TestRollUp(t *testing.T) {
	root := NewRoot("process")
	job := root.Child("job1")
	op1, op2 := job.Child("calc/0"), job.Child("calc/1")
	op1.Grow(100)
	op2.Grow(50)
	op1.Shrink(30)
	for _, c := range []struct {
		a               *Account
		used, allocated int64
	}{{op1, 70, 100}, {op2, 50, 50}, {job, 120, 150}, {root, 120, 150}} {
		if c.a.Used() != c.used || c.a.Allocated() != c.allocated {
			t.Errorf("%s: used %d allocated %d, want %d %d", c.a.Path(), c.a.Used(), c.a.Allocated(), c.used, c.allocated)
		}
	}
	if got := op1.Path(); got != "process/job1/calc/0" {
		t.Errorf("path %q", got)
	}
	var nilAcct *Account
	nilAcct.Grow(5)
	nilAcct.Shrink(5)
	if nilAcct.Used() != 0 || nilAcct.Allocated() != 0 || nilAcct.Over() != nil {
		t.Error("nil account is not inert")
	}
}

func TestLimit(t *testing.T) {
	root := NewRoot("p")
	job := root.Child("j")
	op := job.Child("o")
	job.SetLimit(100)
	op.Grow(100)
	if err := op.Over(); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	op.Grow(1)
	var le *LimitError
	if err := op.Over(); !errors.As(err, &le) || le.Account != "p/j" || le.Used != 101 || le.Limit != 100 {
		t.Fatalf("over the limit: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	root := NewRoot("p")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		a := root.Child("o")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				a.Grow(3)
				a.Shrink(1)
			}
		}()
	}
	wg.Wait()
	if root.Used() != 8000 || root.Allocated() != 12000 {
		t.Fatalf("used %d allocated %d", root.Used(), root.Allocated())
	}
}
