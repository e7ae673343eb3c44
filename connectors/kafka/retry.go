package kafka

import (
	"errors"
	"fmt"
	"time"
)

// Transient broker errors. franz-go retries most of them inside a request
// (produce, fetch and transaction requests retry retriable error codes
// and reconnect); what reaches the connector is a request that failed for
// longer than the client's retry timeout (connect_timeout), or a topic
// level error in a metadata answer. The paths that can go on without the
// answer (a source's periodic partition discovery, a transaction commit
// that can be finished by producer id) retry with backoff here, and report
// the error once it has persisted for retryWindow.

// retryWindow is how long a transient error may persist before it fails
// the pipeline: six connect timeouts (a minute by default).
func (c *config) retryWindow() time.Duration { return 6 * c.timeout }

// retriable reports whether err may go away by itself: a connection or
// broker error, not a configuration, authentication or missing-topic one.
func retriable(err error) bool {
	var r interface{ Retriable() bool }
	return errors.As(err, &r) && r.Retriable()
}

// transient tracks one path's consecutive transient failures.
type transient struct {
	since   time.Time // of the first failure in a row; zero: none
	backoff time.Duration
}

// fail records err at now. It returns the error to report when err is not
// transient or has persisted beyond window; otherwise nil and how long to
// wait before trying again (doubling from 100ms up to max).
func (t *transient) fail(err error, now time.Time, window, max time.Duration) (time.Duration, error) {
	if !retriable(err) {
		return 0, err
	}
	if t.since.IsZero() {
		t.since, t.backoff = now, 100*time.Millisecond
	} else {
		t.backoff = min(2*t.backoff, max)
	}
	if d := now.Sub(t.since); d >= window {
		return 0, fmt.Errorf("%w (retried for %s)", err, d.Round(time.Millisecond))
	}
	return t.backoff, nil
}

// ok ends a run of failures.
func (t *transient) ok() { t.since = time.Time{} }
