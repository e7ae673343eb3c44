package connector

import (
	"context"
	"fmt"
	"time"
)

// Connection testing (seed 000): the control plane tests a connection
// profile (one message) and a table (a stream of steps) before anything is
// deployed. A connector that talks to a network registers a Tester with
// the steps only it knows (connect, authenticate, topic found, schema
// checked, sample records); one that does not (a generator, a local file)
// needs none: the control plane then builds a source and reads a few rows,
// or, for a sink, checks its options and local paths.

// Test step statuses.
const (
	TestInfo  = "info"  // a step that passed
	TestData  = "data"  // a sample record, as JSON
	TestError = "error" // a step that failed; the test ends after it
)

// TestStep is one step of a connection test.
type TestStep struct {
	Status  string // TestInfo, TestData or TestError
	Message string
}

// TableTest is what a table test checks.
type TableTest struct {
	// Table is the validated table: the profile's options merged with the
	// table's, the format, the schema. Option values are as the user wrote
	// them: {{ENV_VAR}} references are resolved by the connector when it
	// connects.
	Table *Table
	// Role is "source" or "sink".
	Role string
	// SampleRows is how many sample records a source test should read at
	// most (as TestData steps).
	SampleRows int
	// SampleTimeout is how long a Tester that reads its own samples waits
	// for them (an empty topic says so and ends after it); 0: 10s.
	SampleTimeout time.Duration
}

// Tester tests the connections of one connector. The control plane calls
// its functions from the request's goroutine with a context that is
// cancelled when the client goes away or a timeout passes: they must
// return promptly then and leave no goroutine behind. Nothing a test does
// may have side effects on the external system (seed 004): no topic
// created, no record written.
type Tester struct {
	// ProfileOptions names the connector's options that belong to a
	// connection profile (bootstrap servers, credentials) rather than to
	// one table; empty when the connector takes no profile.
	ProfileOptions []string
	// TestProfile checks the profile's options (validated against the
	// connector's declarations) and returns what it found ("connected to 3
	// brokers"), or an error saying what is wrong. Errors must not quote
	// secret option values.
	TestProfile func(ctx context.Context, opts Options) (string, error)
	// TestTable runs the table test, calling emit for each step as it
	// completes; emit's error (the client went away) ends the test. A
	// returned error becomes a final TestError step.
	TestTable func(ctx context.Context, t *TableTest, emit func(TestStep) error) error
	// SampleSource: after a source's TestTable passed, the control plane
	// reads up to SampleRows records through the connector's own source
	// (as for connectors without a Tester), so a Tester need not.
	SampleSource bool
	// Autocomplete, if set, lists values a table of this profile may
	// take, by option name (Kafka: {"topic": [...]}), for the console's
	// forms.
	Autocomplete func(ctx context.Context, profile Options) (map[string][]string, error)
}

var testers = map[string]*Tester{}

// RegisterTester registers the connection tests of the connector called
// name (usually from the connector package's init, after Register).
func RegisterTester(name string, t *Tester) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := testers[name]; ok {
		panic(fmt.Sprintf("tester for connector %q registered twice", name))
	}
	testers[name] = t
}

// LookupTester returns the connection tests registered for a connector.
func LookupTester(name string) (*Tester, bool) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := testers[name]
	return t, ok
}
