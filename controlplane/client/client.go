// Package client is the Go client of the REST API (controlplane/api): the
// one `arroyo run` submits its pipeline through, the tests drive the API
// with, and users may import.
//
// Every method returns an *Error for a response with an error status,
// carrying the status and the API's message.
//
// It imports only controlplane/api (for the request and response types).
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/arroyogo/arroyo/controlplane/api"
)

// Client talks to one API server.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// New returns a client of the server at baseURL ("http://127.0.0.1:5115";
// the /api/v1 prefix is added). token, if not empty, is sent as the bearer
// token.
func New(baseURL, token string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/") + api.Prefix, token: token, hc: &http.Client{}}
}

// WithHTTPClient replaces the http.Client (timeouts, transports).
func (c *Client) WithHTTPClient(hc *http.Client) *Client {
	c.hc = hc
	return c
}

// Error is an error response.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("api: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// StatusOf returns the HTTP status of an *Error in err, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports a 404.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsConflict reports a 409.
func IsConflict(err error) bool { return StatusOf(err) == http.StatusConflict }

func (c *Client) request(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var eb api.ErrorBody
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		return nil, &Error{Status: resp.StatusCode, Message: msg}
	}
	return resp, nil
}

// do sends a request and decodes the JSON response into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("api: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

// Page selects a page of a list.
type Page struct {
	Limit         int
	StartingAfter string
}

func (p Page) query() string {
	v := url.Values{}
	if p.Limit > 0 {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.StartingAfter != "" {
		v.Set("starting_after", p.StartingAfter)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func esc(s string) string { return url.PathEscape(s) }

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/ping", nil, nil)
}

// Connectors lists the connectors.
func (c *Client) Connectors(ctx context.Context) ([]api.Connector, error) {
	var out api.ConnectorCollection
	err := c.do(ctx, http.MethodGet, "/connectors", nil, &out)
	return out.Data, err
}

// CreateConnectionProfile creates a profile.
func (c *Client) CreateConnectionProfile(ctx context.Context, p api.ConnectionProfilePost) (*api.ConnectionProfile, error) {
	var out api.ConnectionProfile
	return &out, c.do(ctx, http.MethodPost, "/connection_profiles", p, &out)
}

// ConnectionProfiles lists the profiles.
func (c *Client) ConnectionProfiles(ctx context.Context) ([]api.ConnectionProfile, error) {
	var out api.ConnectionProfileCollection
	err := c.do(ctx, http.MethodGet, "/connection_profiles", nil, &out)
	return out.Data, err
}

// DeleteConnectionProfile deletes a profile.
func (c *Client) DeleteConnectionProfile(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/connection_profiles/"+esc(id), nil, nil)
}

// TestConnectionProfile tests a profile's settings.
func (c *Client) TestConnectionProfile(ctx context.Context, p api.ConnectionProfilePost) (*api.TestSourceMessage, error) {
	var out api.TestSourceMessage
	return &out, c.do(ctx, http.MethodPost, "/connection_profiles/test", p, &out)
}

// Autocomplete lists values a table of the profile may take.
func (c *Client) Autocomplete(ctx context.Context, profileID string) (*api.ConnectionAutocompleteResp, error) {
	var out api.ConnectionAutocompleteResp
	return &out, c.do(ctx, http.MethodGet, "/connection_profiles/"+esc(profileID)+"/autocomplete", nil, &out)
}

// CreateConnectionTable creates a table.
func (c *Client) CreateConnectionTable(ctx context.Context, t api.ConnectionTablePost) (*api.ConnectionTable, error) {
	var out api.ConnectionTable
	return &out, c.do(ctx, http.MethodPost, "/connection_tables", t, &out)
}

// ConnectionTables lists a page of tables.
func (c *Client) ConnectionTables(ctx context.Context, p Page) (*api.ConnectionTableCollection, error) {
	var out api.ConnectionTableCollection
	return &out, c.do(ctx, http.MethodGet, "/connection_tables"+p.query(), nil, &out)
}

// DeleteConnectionTable deletes a table.
func (c *Client) DeleteConnectionTable(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/connection_tables/"+esc(id), nil, nil)
}

// TestSchema checks a table schema.
func (c *Client) TestSchema(ctx context.Context, s api.ConnectionSchema) error {
	return c.do(ctx, http.MethodPost, "/connection_tables/schemas/test", s, nil)
}

// TestConnectionTable runs a table test, calling fn with each message as
// it arrives (fn's error stops reading and is returned); it returns after
// the message with done: true. Cancelling ctx cancels the test.
func (c *Client) TestConnectionTable(ctx context.Context, t api.ConnectionTablePost, fn func(api.TestSourceMessage) error) error {
	resp, err := c.request(ctx, http.MethodPost, "/connection_tables/test", t)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return ReadEvents(resp.Body, func(data []byte) error {
		var m api.TestSourceMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("api: connection test event %q: %w", data, err)
		}
		if err := fn(m); err != nil {
			return err
		}
		if m.Done {
			return io.EOF
		}
		return nil
	})
}

// ReadEvents reads Server-Sent Events from r, calling fn with the data of
// each event (its data: lines joined by newlines) until r ends or fn
// returns an error; io.EOF from fn ends reading without error.
func ReadEvents(r io.Reader, fn func(data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var data []byte
	have := false
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0:
			if have {
				if err := fn(data); err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return err
				}
			}
			data, have = data[:0], false
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[5:], []byte(" "))
			if have {
				data = append(data, '\n')
			}
			data, have = append(data, v...), true
		}
	}
	return sc.Err()
}

// CreateUDF stores a UDF module.
func (c *Client) CreateUDF(ctx context.Context, u api.UdfPost) (*api.GlobalUdf, error) {
	var out api.GlobalUdf
	return &out, c.do(ctx, http.MethodPost, "/udfs", u, &out)
}

// UDFs lists the UDFs.
func (c *Client) UDFs(ctx context.Context) ([]api.GlobalUdf, error) {
	var out api.GlobalUdfCollection
	err := c.do(ctx, http.MethodGet, "/udfs", nil, &out)
	return out.Data, err
}

// DeleteUDF deletes a UDF.
func (c *Client) DeleteUDF(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/udfs/"+esc(id), nil, nil)
}

// ValidateUDF checks a module.
func (c *Client) ValidateUDF(ctx context.Context, v api.ValidateUdfPost) (*api.UdfValidationResult, error) {
	var out api.UdfValidationResult
	return &out, c.do(ctx, http.MethodPost, "/udfs/validate", v, &out)
}

// CreatePipeline creates (and starts) a pipeline.
func (c *Client) CreatePipeline(ctx context.Context, p api.PipelinePost) (*api.Pipeline, error) {
	var out api.Pipeline
	return &out, c.do(ctx, http.MethodPost, "/pipelines", p, &out)
}

// CreatePreview creates (and starts) a preview pipeline: its bare SELECTs
// go to the preview sink, read with JobOutput.
func (c *Client) CreatePreview(ctx context.Context, p api.PipelinePost) (*api.Pipeline, error) {
	var out api.Pipeline
	return &out, c.do(ctx, http.MethodPost, "/pipelines/preview", p, &out)
}

// JobOutput streams a job's output, calling fn with each event until the
// stream ends (the job ended), fn returns an error, or ctx is cancelled.
func (c *Client) JobOutput(ctx context.Context, pipelineID, jobID string, fn func(api.OutputData) error) error {
	resp, err := c.request(ctx, http.MethodGet, "/pipelines/"+esc(pipelineID)+"/jobs/"+esc(jobID)+"/output", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return ReadEvents(resp.Body, func(data []byte) error {
		var d api.OutputData
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("api: job output event %q: %w", data, err)
		}
		return fn(d)
	})
}

// OperatorMetrics returns a running job's operator metrics.
func (c *Client) OperatorMetrics(ctx context.Context, pipelineID, jobID string) ([]api.OperatorMetricGroup, error) {
	var out api.OperatorMetricGroupCollection
	err := c.do(ctx, http.MethodGet, "/pipelines/"+esc(pipelineID)+"/jobs/"+esc(jobID)+"/operator_metric_groups", nil, &out)
	return out.Data, err
}

// Pipelines lists a page of pipelines.
func (c *Client) Pipelines(ctx context.Context, p Page) (*api.PipelineCollection, error) {
	var out api.PipelineCollection
	return &out, c.do(ctx, http.MethodGet, "/pipelines"+p.query(), nil, &out)
}

// Pipeline gets a pipeline.
func (c *Client) Pipeline(ctx context.Context, id string) (*api.Pipeline, error) {
	var out api.Pipeline
	return &out, c.do(ctx, http.MethodGet, "/pipelines/"+esc(id), nil, &out)
}

// PatchPipeline stops, resumes or rescales a pipeline.
func (c *Client) PatchPipeline(ctx context.Context, id string, p api.PipelinePatch) (*api.Pipeline, error) {
	var out api.Pipeline
	return &out, c.do(ctx, http.MethodPatch, "/pipelines/"+esc(id), p, &out)
}

// RestartPipeline restarts a pipeline's job.
func (c *Client) RestartPipeline(ctx context.Context, id string, r api.PipelineRestart) (*api.Pipeline, error) {
	var out api.Pipeline
	return &out, c.do(ctx, http.MethodPost, "/pipelines/"+esc(id)+"/restart", r, &out)
}

// DeletePipeline deletes a stopped pipeline.
func (c *Client) DeletePipeline(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/pipelines/"+esc(id), nil, nil)
}

// ValidateQuery plans a query without storing it.
func (c *Client) ValidateQuery(ctx context.Context, v api.ValidateQueryPost) (*api.QueryValidationResult, error) {
	var out api.QueryValidationResult
	return &out, c.do(ctx, http.MethodPost, "/pipelines/validate_query", v, &out)
}

// PipelineJobs lists a pipeline's jobs, newest first.
func (c *Client) PipelineJobs(ctx context.Context, pipelineID string) ([]api.Job, error) {
	var out api.JobCollection
	err := c.do(ctx, http.MethodGet, "/pipelines/"+esc(pipelineID)+"/jobs", nil, &out)
	return out.Data, err
}

// Jobs lists every job.
func (c *Client) Jobs(ctx context.Context) ([]api.Job, error) {
	var out api.JobCollection
	err := c.do(ctx, http.MethodGet, "/jobs", nil, &out)
	return out.Data, err
}

// Checkpoints lists a job's checkpoints.
func (c *Client) Checkpoints(ctx context.Context, pipelineID, jobID string) ([]api.Checkpoint, error) {
	var out api.CheckpointCollection
	err := c.do(ctx, http.MethodGet, "/pipelines/"+esc(pipelineID)+"/jobs/"+esc(jobID)+"/checkpoints", nil, &out)
	return out.Data, err
}

// CheckpointDetails lists the operators of one checkpoint.
func (c *Client) CheckpointDetails(ctx context.Context, pipelineID, jobID string, epoch uint64) ([]api.OperatorCheckpoint, error) {
	var out api.OperatorCheckpointGroupCollection
	err := c.do(ctx, http.MethodGet, fmt.Sprintf("/pipelines/%s/jobs/%s/checkpoints/%d/operator_checkpoint_groups", esc(pipelineID), esc(jobID), epoch), nil, &out)
	return out.Data, err
}

// JobErrors lists a page of a job's log messages.
func (c *Client) JobErrors(ctx context.Context, pipelineID, jobID string, p Page) (*api.JobLogMessageCollection, error) {
	var out api.JobLogMessageCollection
	return &out, c.do(ctx, http.MethodGet, "/pipelines/"+esc(pipelineID)+"/jobs/"+esc(jobID)+"/errors"+p.query(), nil, &out)
}

// WaitForJob polls the pipeline's current job every interval until done
// says it is what the caller waits for, and returns it.
func (c *Client) WaitForJob(ctx context.Context, pipelineID string, interval time.Duration, done func(api.Job) bool) (*api.Job, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		jobs, err := c.PipelineJobs(ctx, pipelineID)
		if err != nil {
			return nil, err
		}
		if len(jobs) > 0 && done(jobs[0]) {
			return &jobs[0], nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
