// Package api is the control plane's REST API under /api/v1, compatible
// with Arroyo's in paths, JSON field names and status codes: connectors,
// connection profiles and tables (with connection tests streamed as
// Server-Sent Events, seed 000), UDFs, pipelines, their jobs, checkpoints
// and errors. The OpenAPI document is generated from the handlers' own
// types (huma) and served at /api/v1/api-docs/openapi.json.
//
// The API keeps metadata in controlplane/store and plans SQL with sqlplan
// for validation and diagnostics; running pipelines is the controller's
// job, reached through the Runner interface defined here, and UDF modules
// are checked through UDFHost (the wasm host implements it).
//
// Errors are {"error": "..."}: 400 for a malformed body (naming the
// field), 401 without the bearer token, 404, 409 for a conflicting state,
// 413 for a body over the limit. Secrets in connection configs are stored
// but never returned, logged or put in an error.
//
// It must not import connectors, udf, cmd, engine/dataflow or
// controlplane/controller.
package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/expr"
	"github.com/arroyogo/arroyo/engine/program"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// OpenAPIPath is where the OpenAPI document is served.
const OpenAPIPath = Prefix + "/api-docs/openapi.json"

// DefaultMaxBodyBytes bounds request bodies unless configured: room for a
// UDF module, base64-encoded.
const DefaultMaxBodyBytes = 16 << 20

// Runner runs pipelines: the controller implements it. The API stores a
// pipeline, then asks the runner to start it; the runner creates and
// updates the job records in the store.
type Runner interface {
	// Start starts a job for the stored pipeline p (planned as prog) and
	// returns the job's ID.
	Start(ctx context.Context, p *store.Pipeline, prog *program.Program) (jobID string, err error)
	// Stop asks the job to stop in mode (store.StopCheckpoint,
	// StopGraceful, StopImmediate or StopForce); it returns once the
	// request is recorded, not when the job has stopped.
	Stop(ctx context.Context, jobID, mode string) error
	// Restart restarts the pipeline's job (p holds its new parallelism):
	// from its last checkpoint unless opts.IgnoreState; opts.Force
	// restarts even a job that is not stopped or failed. It returns the
	// ID of the job now running the pipeline. It is also how a rescale
	// (PATCH parallelism while the job runs: stop it with a checkpoint,
	// restore at the new parallelism) and a resume (PATCH stop = none of
	// a stopped pipeline) arrive. Optional capabilities: OutputStreamer,
	// MetricsReporter.
	Restart(ctx context.Context, p *store.Pipeline, prog *program.Program, opts RestartOptions) (jobID string, err error)
}

// RestartOptions are a restart's options.
type RestartOptions struct {
	Force       bool
	IgnoreState bool
}

// UDFHost checks and loads UDF modules: the wasm host implements it.
type UDFHost interface {
	// Validate compiles module and returns the SQL name of the function
	// it exports, or an error saying what is wrong with it.
	Validate(ctx context.Context, module []byte) (name string, err error)
	// Functions returns the function registry a pipeline calling udfs is
	// planned with (the built-ins and these).
	Functions(ctx context.Context, udfs []*store.UDF) (*expr.Registry, error)
}

// Options configure a Server.
type Options struct {
	Store *store.Store
	// Runner runs pipelines; nil: pipelines are stored and planned but
	// not run (and stop/restart are 409).
	Runner Runner
	// UDFs checks UDF modules; nil: only the wasm header is checked and
	// pipelines that call UDFs are refused.
	UDFs UDFHost
	// Functions, if set, is the registry pipelines that name no stored
	// UDF are planned with (`arroyo run`'s --udf modules over the
	// built-ins); the runner must run them with the same one.
	Functions *expr.Registry
	// AuthToken, when set, is the bearer token every route but /ping
	// requires (api.auth_mode = static).
	AuthToken string
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	Logger       *slog.Logger
	// DefaultSink is the connector bare SELECTs write to (default
	// "stdout"); PreviewSink, that of a preview pipeline (POST
	// /pipelines/preview; default "preview", which the controller's
	// bundle registers and streams through OutputStreamer).
	DefaultSink string
	PreviewSink string
	// MaxParallelism bounds a pipeline's parallelism (0: no bound).
	MaxParallelism int
	// StepTimeout bounds each step of a connection test (default 10s);
	// SampleTimeout how long a source test waits for sample rows (default
	// 10s); SampleRows how many it reads (default 5).
	StepTimeout   time.Duration
	SampleTimeout time.Duration
	SampleRows    int
	// Version is reported in the OpenAPI document.
	Version string
	// Metrics, if set, gets the API's request metrics
	// (arroyo_api_requests_total, arroyo_api_request_duration_seconds).
	Metrics prometheus.Registerer
}

// Server is the API's http.Handler.
type Server struct {
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	api     huma.API
	handler http.Handler
	// tests counts the connection tests running (for tests: none is left
	// behind by a client that went away).
	tests atomic.Int64
}

// New builds the API.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("api: no store")
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultSink == "" {
		opts.DefaultSink = "stdout"
	}
	if opts.PreviewSink == "" {
		opts.PreviewSink = "preview"
	}
	if opts.StepTimeout <= 0 {
		opts.StepTimeout = 10 * time.Second
	}
	if opts.SampleTimeout <= 0 {
		opts.SampleTimeout = 10 * time.Second
	}
	if opts.SampleRows <= 0 {
		opts.SampleRows = 5
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	cfg := huma.DefaultConfig("Arroyo REST API", opts.Version)
	cfg.OpenAPIPath = strings.TrimSuffix(OpenAPIPath, ".json")
	cfg.DocsPath = ""    // no HTML docs page: it loads scripts from the internet
	cfg.SchemasPath = "" // schemas are in the document
	cfg.CreateHooks = nil
	cfg.Servers = []*huma.Server{{URL: "/"}}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer"},
	}
	s.api = humago.New(s.mux, cfg)
	s.routes()
	// Validation failures are 400 here, never huma's 422.
	for _, pi := range s.api.OpenAPI().Paths {
		for _, o := range []*huma.Operation{pi.Get, pi.Post, pi.Put, pi.Patch, pi.Delete} {
			if o != nil {
				delete(o.Responses, "422")
			}
		}
	}
	s.handler = s.withAuth(s.withLimits(s.mux))
	if opts.Metrics != nil {
		s.handler = newHTTPMetrics(opts.Metrics).wrap(s.handler)
	}
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// ActiveTests is the number of connection tests running.
func (s *Server) ActiveTests() int64 { return s.tests.Load() }

// withLimits bounds request bodies and logs each request at debug level
// (method, path, status, duration; never a body or a header).
func (s *Server) withLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		}
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	})
}

func (s *Server) withAuth(next http.Handler) http.Handler {
	if s.opts.AuthToken == "" {
		return next
	}
	want := []byte("Bearer " + s.opts.AuthToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Prefix+"/ping" {
			next.ServeHTTP(w, r)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="arroyo"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (send Authorization: Bearer <api token>)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"error\":%q}\n", msg)
}

// Error is an API error: its status and {"error": Msg}.
type Error struct {
	status int
	Msg    string `json:"error" doc:"What is wrong, naming the field or record."`
	cause  error
}

func (e *Error) Error() string  { return e.Msg }
func (e *Error) GetStatus() int { return e.status }
func (e *Error) Unwrap() error  { return e.cause }

func init() {
	// Every error huma makes (malformed bodies, failed validation,
	// oversized bodies) is {"error": "..."}; validation failures are 400
	// and name the field ("body.name: expected length >= 1").
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		var parts []string
		for _, e := range errs {
			if e == nil {
				continue
			}
			var d *huma.ErrorDetail
			if errors.As(e, &d) {
				if d.Location != "" {
					parts = append(parts, d.Location+": "+d.Message)
				} else {
					parts = append(parts, d.Message)
				}
				continue
			}
			parts = append(parts, e.Error())
		}
		if len(parts) > 0 {
			msg = strings.TrimSuffix(msg, ".") + ": " + strings.Join(parts, "; ")
		}
		return &Error{status: status, Msg: lowerFirst(msg)}
	}
}

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "JSON") {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func badRequest(format string, args ...any) error {
	return &Error{status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &Error{status: http.StatusConflict, Msg: fmt.Sprintf(format, args...)}
}

// storeErr maps a store error to its status: ErrNotFound 404, ErrConflict
// 409, anything else 500 (logged, not shown: it may quote SQL).
func (s *Server) storeErr(err error) error {
	var se *store.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && errors.Is(err, store.ErrNotFound):
		return &Error{status: http.StatusNotFound, Msg: se.Msg}
	case errors.As(err, &se) && errors.Is(err, store.ErrConflict):
		return &Error{status: http.StatusConflict, Msg: se.Msg}
	case errors.Is(err, context.Canceled):
		return &Error{status: 499, Msg: "request cancelled"}
	}
	s.log.Error("store", "error", err)
	return &Error{status: http.StatusInternalServerError, Msg: "internal error (see the server's log)"}
}

// fieldErr maps a store ErrNotFound for a record named in a body field to
// a 400 naming the field.
func (s *Server) fieldErr(field string, err error) error {
	var se *store.Error
	if errors.As(err, &se) && errors.Is(err, store.ErrNotFound) {
		return badRequest("%s: %s", field, se.Msg)
	}
	return s.storeErr(err)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func microsPtr(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMicro()
	return &v
}
