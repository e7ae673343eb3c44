package wasm

import (
	"fmt"
	"strings"
	"sync"
)

// logWriter receives an instance's stdout and stderr: it passes whole lines
// to the sink until limit bytes were written, then counts and drops the
// rest, and keeps the last lines for error messages (a Go guest's panic
// says what went wrong on stderr before it exits).
type logWriter struct {
	module  string
	sink    func(module, line string)
	limit   int
	mu      sync.Mutex
	written int
	dropped int
	partial []byte
	tail    []string
}

const tailLines = 32

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := strings.IndexByte(string(p), '\n')
		if i < 0 {
			if len(w.partial) < 4096 {
				w.partial = append(w.partial, p[:min(len(p), 4096-len(w.partial))]...)
			}
			break
		}
		w.line(append(w.partial, p[:i]...))
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (w *logWriter) line(b []byte) {
	s := strings.ToValidUTF8(string(b), "?")
	if len(w.tail) == tailLines {
		copy(w.tail, w.tail[1:])
		w.tail = w.tail[:tailLines-1]
	}
	w.tail = append(w.tail, s)
	if w.written+len(s) > w.limit {
		w.dropped += len(s) + 1
		return
	}
	w.written += len(s) + 1
	if w.sink != nil {
		w.sink(w.module, s)
	}
}

// flush logs a last partial line and what was dropped.
func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.line(w.partial)
		w.partial = nil
	}
	if w.dropped > 0 && w.sink != nil {
		w.sink(w.module, fmt.Sprintf("(%d more bytes of output dropped: the limit is %d bytes per instance)", w.dropped, w.limit))
		w.dropped = 0
	}
}

// tailNote returns the guest's last output lines for an error message.
func (w *logWriter) tailNote() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.tail
	if len(w.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(w.partial))
	}
	// A Go guest's panic prints "panic: ..." and then its goroutines'
	// stacks: the panic line says what happened.
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return "; guest output: " + l
		}
	}
	var keep []string
	for i := len(lines) - 1; i >= 0 && len(keep) < 2; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			keep = append([]string{l}, keep...)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	return "; guest output: " + strings.Join(keep, " | ")
}
