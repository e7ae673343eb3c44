package preview

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestFeedStream: a reader gets the kept batches, then new ones as they
// are appended, with row indexes; when done closes it gets what is left
// and returns; a feed over its byte budget drops its oldest batches, and
// a late reader starts at the oldest kept one.
func TestFeedStream(t *testing.T) {
	job := t.Name()
	f := hub.feed(job)
	f.append(Batch{Lines: []byte("{\"a\":1}\n{\"a\":2}\n"), rows: 2})
	got := make(chan Batch, 10)
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- Stream(context.Background(), job, done, func(b Batch) error { got <- b; return nil })
	}()
	if b := <-got; b.StartID != 0 || string(b.Lines) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Fatalf("first batch %+v", b)
	}
	f.append(Batch{Lines: []byte("{\"a\":3}\n"), rows: 1})
	if b := <-got; b.StartID != 2 || string(b.Lines) != "{\"a\":3}\n" {
		t.Fatalf("second batch %+v", b)
	}
	f.append(Batch{Lines: []byte("{\"a\":4}\n"), rows: 1})
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if b := <-got; b.StartID != 3 {
		t.Fatalf("batch after done %+v", b)
	}

	// Over the budget: the oldest batches go.
	big := strings.Repeat("x", maxFeedBytes/4)
	for i := range 8 {
		f.append(Batch{Lines: []byte(fmt.Sprintf("%d%s\n", i, big)), rows: 1})
	}
	var first []Batch
	if err := Stream(context.Background(), job, done, func(b Batch) error { first = append(first, b); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(first) == 0 || len(first) > 4 || first[len(first)-1].Lines[0] != '7' || first[0].StartID != int64(4+8-len(first)) {
		t.Fatalf("a late reader got %d batches, the first at row %d", len(first), first[0].StartID)
	}

	// A cancelled reader returns nil at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Stream(ctx, job, make(chan struct{}), func(Batch) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
