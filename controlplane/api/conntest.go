package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/sse"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

// testProfile runs a profile test: one message.
func (s *Server) testProfile(ctx context.Context, p *ConnectionProfilePost) TestSourceMessage {
	fail := func(msg string) TestSourceMessage {
		return TestSourceMessage{Error: true, Done: true, Status: "error", Message: msg}
	}
	c, cfg, err := validateProfile(p)
	if err != nil {
		return fail(err.Error())
	}
	tester, _ := connector.LookupTester(c.Name)
	if tester == nil || tester.TestProfile == nil {
		return TestSourceMessage{Done: true, Status: "done", Message: fmt.Sprintf("connector '%s' connects to nothing: the options are valid", c.Name)}
	}
	profile, _ := splitOptions(c, tester)
	opts, err := connector.Validate(c.Name, profile, cfg)
	if err != nil {
		return fail(err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.StepTimeout)
	defer cancel()
	s.tests.Add(1)
	defer s.tests.Add(-1)
	msg, err := tester.TestProfile(ctx, opts)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fail(fmt.Sprintf("no answer within %s: %v", s.opts.StepTimeout, err))
		}
		return fail(err.Error())
	}
	if msg == "" {
		msg = "connection profile test passed"
	}
	return TestSourceMessage{Done: true, Status: "done", Message: msg}
}

func (s *Server) registerTableTest() {
	o := huma.Operation{
		OperationID: "test_connection_table", Method: http.MethodPost, Path: Prefix + "/connection_tables/test",
		Summary: "Test a connection table: its steps stream as Server-Sent Events, the last with done: true",
		Tags:    []string{"connection_tables"}, MaxBodyBytes: s.opts.MaxBodyBytes, DefaultStatus: http.StatusOK,
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized},
	}
	if s.opts.AuthToken != "" {
		o.Security = []map[string][]string{{"bearer": {}}}
	}
	sse.Register(s.api, o, map[string]any{"message": TestSourceMessage{}},
		func(ctx context.Context, in *tablePostIn, send sse.Sender) {
			s.tests.Add(1)
			defer s.tests.Add(-1)
			s.runTableTest(ctx, &in.Body, func(m TestSourceMessage) error { return send.Data(m) })
		})
}

// runTableTest runs a table test, sending each step; the last message has
// done: true (unless the client went away first).
func (s *Server) runTableTest(ctx context.Context, t *ConnectionTablePost, send func(TestSourceMessage) error) {
	request := ctx // ends when the client goes away
	limit := 2*s.opts.StepTimeout + s.opts.SampleTimeout
	failed := false
	emit := func(st connector.TestStep) error {
		m := TestSourceMessage{Status: st.Status, Message: st.Message}
		if st.Status == connector.TestError {
			m.Error, failed = true, true
		}
		if err := send(m); err != nil {
			return err
		}
		return ctx.Err()
	}
	finish := func(err error) {
		if request.Err() != nil {
			return // the client went away: nobody to tell
		}
		if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("the test did not finish within %s: %w", limit, err)
		}
		if err != nil {
			_ = send(TestSourceMessage{Error: true, Status: connector.TestError, Message: err.Error()})
			failed = true
		}
		m := TestSourceMessage{Done: true, Status: "done", Message: "connection test passed"}
		if failed {
			m.Error, m.Message = true, "connection test failed"
		}
		_ = send(m)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	pt, err := s.planConnectionTable(ctx, t)
	if err != nil {
		finish(err)
		return
	}
	if err := emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("table options are valid for connector '%s' (%s)", pt.conn.Name, pt.role)}); err != nil {
		return
	}
	tt := &connector.TableTest{Table: pt.table, Role: pt.role, SampleRows: s.opts.SampleRows, SampleTimeout: s.opts.SampleTimeout}
	if tester, ok := connector.LookupTester(pt.conn.Name); ok && tester.TestTable != nil {
		err := tester.TestTable(ctx, tt, emit)
		if err == nil && tester.SampleSource && pt.role == "source" {
			err = s.sampleSource(ctx, pt.conn, tt, emit)
		}
		finish(err)
		return
	}
	if pt.role == "sink" {
		finish(s.testLocalSink(pt, emit))
		return
	}
	finish(s.sampleSource(ctx, pt.conn, tt, emit))
}

// testLocalSink checks, without writing anything, that a sink's local
// files could be written: their directories exist and are writable.
func (s *Server) testLocalSink(pt *plannedTable, emit func(connector.TestStep) error) error {
	if pt.conn.LocalPaths == nil {
		return nil
	}
	for _, lp := range pt.conn.LocalPaths(pt.table.Options) {
		if lp.Path == "" {
			continue
		}
		dir := filepath.Dir(lp.Path)
		st, err := os.Stat(dir)
		switch {
		case err != nil:
			return fmt.Errorf("directory of %s: %w", lp.Path, err)
		case !st.IsDir():
			return fmt.Errorf("%s is not a directory", dir)
		}
		if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
			return fmt.Errorf("directory %s is not writable: %w", dir, err)
		}
		if err := emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("directory %s exists and is writable", dir)}); err != nil {
			return err
		}
	}
	return nil
}

// sampleSource builds the table's source for one subtask and streams up
// to SampleRows of its rows as JSON.
func (s *Server) sampleSource(ctx context.Context, c *connector.Connector, tt *connector.TableTest, emit func(connector.TestStep) error) error {
	t := tt.Table
	splits := []connector.SplitState{{}}
	if c.Splits != nil {
		sctx, cancel := context.WithTimeout(ctx, s.opts.StepTimeout)
		names, err := c.Splits(sctx, t, 1)
		cancel()
		if err != nil {
			return err
		}
		splits = splits[:0]
		for _, n := range names {
			splits = append(splits, connector.SplitState{Split: n})
		}
	}
	src, err := c.NewSource(t, connector.SourceTask{JobID: "connection_test", OperatorID: "source", Subtask: 0, Parallelism: 1}, splits)
	if err != nil {
		return err
	}
	if cl, ok := src.(connector.Closer); ok {
		defer cl.Close()
	}
	if err := emit(connector.TestStep{Status: connector.TestInfo, Message: "source opened; reading sample rows"}); err != nil {
		return err
	}
	enc, err := rowEncoder(t)
	if err != nil {
		return err
	}
	out := &sampleOutput{enc: enc, emit: emit, want: tt.SampleRows}
	deadline := time.Now().Add(s.opts.SampleTimeout)
	for out.n < out.want {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			if out.n == 0 {
				return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("no data within %s (the source may be empty)", s.opts.SampleTimeout)})
			}
			return nil
		}
		pctx, cancel := context.WithDeadline(ctx, minTime(deadline, time.Now().Add(s.opts.StepTimeout)))
		err := src.Poll(pctx, out)
		cancel()
		switch {
		case errors.Is(err, io.EOF):
			return emit(connector.TestStep{Status: connector.TestInfo, Message: fmt.Sprintf("end of input after %d rows", out.n)})
		case errors.Is(err, errEnough):
			return nil
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			return err
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// errEnough stops a source once the sample is complete.
var errEnough = errors.New("enough sample rows")

// sampleOutput is the SourceOutput of a source test: it turns the first
// rows into data steps.
type sampleOutput struct {
	enc  connector.Encoder
	emit func(connector.TestStep) error
	want int
	n    int
}

func (o *sampleOutput) Emit(b *coldata.Batch) error {
	return o.enc.Encode(b, func(rec []byte) error {
		if o.n >= o.want {
			return errEnough
		}
		o.n++
		if err := o.emit(connector.TestStep{Status: connector.TestData, Message: strings.TrimRight(string(rec), "\n")}); err != nil {
			return err
		}
		if o.n >= o.want {
			return errEnough
		}
		return nil
	})
}

func (o *sampleOutput) Counter(string, int64) {}

// rowEncoder encodes a table's rows as JSON objects.
func rowEncoder(t *connector.Table) (connector.Encoder, error) {
	f, ok := connector.LookupFormat("json")
	if !ok {
		return nil, errors.New("sample rows need the json format linked in")
	}
	opts, err := connector.Validate(f.Name, f.Options, nil)
	if err != nil {
		return nil, err
	}
	return f.NewEncoder(t.Schema, opts)
}
