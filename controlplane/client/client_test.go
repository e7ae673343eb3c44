package client

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	in := ": a comment\r\ndata: {\"a\":1}\r\n\r\nevent: message\nid: 7\ndata:two\ndata: lines\n\n\n\ndata: last\n\n"
	var got []string
	if err := ReadEvents(strings.NewReader(in), func(d []byte) error { got = append(got, string(d)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != `{"a":1}|two`+"\n"+`lines|last` {
		t.Errorf("events %q", got)
	}
	// io.EOF from fn stops without error; another error is returned.
	n := 0
	if err := ReadEvents(strings.NewReader(in), func([]byte) error { n++; return io.EOF }); err != nil || n != 1 {
		t.Errorf("stop after one: n=%d err=%v", n, err)
	}
	boom := errors.New("boom")
	if err := ReadEvents(strings.NewReader(in), func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("fn's error: %v", err)
	}
	// An event without its blank line (a cut stream) is not delivered.
	got = nil
	ReadEvents(strings.NewReader("data: whole\n\ndata: cut"), func(d []byte) error { got = append(got, string(d)); return nil })
	if len(got) != 1 {
		t.Errorf("cut stream gave %q", got)
	}
}

func TestPageQuery(t *testing.T) {
	if q := (Page{}).query(); q != "" {
		t.Errorf("empty page: %q", q)
	}
	if q := (Page{Limit: 5, StartingAfter: "pl_a b"}).query(); q != "?limit=5&starting_after=pl_a+b" {
		t.Errorf("page: %q", q)
	}
}
