package schemareg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/arroyogo/arroyo/engine/connector"
)

// Option names of the connectors that take a registry (Arroyo's).
const (
	OptEndpoint  = "schema_registry.endpoint"
	OptAPIKey    = "schema_registry.api_key"
	OptAPISecret = "schema_registry.api_secret"
)

// Config says how to reach a registry.
type Config struct {
	// Endpoint is the registry's URL (http:// or https://).
	Endpoint string
	// APIKey and APISecret, if set, are sent as HTTP basic auth (Confluent
	// Cloud's API key and secret).
	APIKey, APISecret string
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// HTTPClient, if set, is used instead of one built from Timeout (for
	// TLS settings).
	HTTPClient *http.Client
}

// ConfigFromOptions reads the schema_registry.* options of a connector
// table. ok is false if no endpoint is set.
func ConfigFromOptions(opts connector.Options) (cfg Config, ok bool) {
	cfg = Config{
		Endpoint:  strings.TrimSpace(opts.String(OptEndpoint)),
		APIKey:    opts.String(OptAPIKey),
		APISecret: opts.String(OptAPISecret),
	}
	return cfg, cfg.Endpoint != ""
}

// Error is a registry failure. Its message names the registry (without
// credentials) and what was asked.
type Error struct {
	// Retriable is true when trying again later may help: the registry
	// was unreachable, timed out or answered 5xx.
	Retriable bool
	// NotFound is true for an unknown subject, version or schema id.
	NotFound bool
	Msg      string
	Err      error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Registry is a schema registry client with a cache of schemas by id. It is
// safe for concurrent use; subtasks of one job may share one.
type Registry struct {
	cl       *sr.Client
	endpoint string // redacted, for messages

	mu   sync.Mutex
	byID map[int]sr.Schema
}

// New returns a client for the registry cfg names; it does not contact it.
func New(cfg Config) (*Registry, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("schema registry: option '%s' is required", OptEndpoint)
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("schema registry: option '%s' must be an http:// or https:// URL (got '%s')", OptEndpoint, redact(cfg.Endpoint))
	}
	if (cfg.APIKey == "") != (cfg.APISecret == "") {
		return nil, fmt.Errorf("schema registry: options '%s' and '%s' go together", OptAPIKey, OptAPISecret)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		t := cfg.Timeout
		if t <= 0 {
			t = 10 * time.Second
		}
		hc = &http.Client{Timeout: t}
	}
	opts := []sr.ClientOpt{sr.URLs(cfg.Endpoint), sr.HTTPClient(hc), sr.UserAgent("arroyo-go")}
	if cfg.APIKey != "" {
		opts = append(opts, sr.BasicAuth(cfg.APIKey, cfg.APISecret))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	return &Registry{cl: cl, endpoint: redact(cfg.Endpoint), byID: map[int]sr.Schema{}}, nil
}

// redact removes credentials from a URL for messages.
func redact(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// Client returns the underlying franz-go client.
func (r *Registry) Client() *sr.Client { return r.cl }

// Endpoint returns the registry's URL, without credentials.
func (r *Registry) Endpoint() string { return r.endpoint }

// wrap turns a client error into an *Error saying what was asked.
func (r *Registry) wrap(what string, err error) *Error {
	e := &Error{Msg: fmt.Sprintf("schema registry %s: %s", r.endpoint, what)}
	var re *sr.ResponseError
	switch {
	case errors.As(err, &re):
		e.Retriable = re.StatusCode >= 500 || re.StatusCode == http.StatusTooManyRequests
		e.NotFound = re.StatusCode == http.StatusNotFound
		switch re.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			e.Err = fmt.Errorf("authentication failed (HTTP %d): check '%s' and '%s'", re.StatusCode, OptAPIKey, OptAPISecret)
		default:
			msg := re.Message
			if msg == "" {
				msg = strings.TrimSpace(string(re.Raw))
			}
			e.Err = fmt.Errorf("HTTP %d: %s", re.StatusCode, msg)
		}
	case isNetErr(err):
		e.Retriable = true
		e.Err = fmt.Errorf("registry unreachable: %w", stripURL(err))
	default:
		e.Err = err
	}
	return e
}

func isNetErr(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// stripURL drops the URL a *url.Error repeats (it may carry credentials).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// SchemaByID returns the schema of id, from the cache or the registry.
func (r *Registry) SchemaByID(ctx context.Context, id int) (sr.Schema, error) {
	r.mu.Lock()
	s, ok := r.byID[id]
	r.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := r.cl.SchemaByID(ctx, id)
	if err != nil {
		e := r.wrap(fmt.Sprintf("looking up schema id %d", id), err)
		if e.NotFound {
			e.Msg = fmt.Sprintf("schema registry %s: unknown schema id %d", r.endpoint, id)
		}
		return sr.Schema{}, e
	}
	r.mu.Lock()
	r.byID[id] = s
	r.mu.Unlock()
	return s, nil
}

// Latest returns the latest version of subject; a missing subject is an
// *Error with NotFound.
func (r *Registry) Latest(ctx context.Context, subject string) (sr.SubjectSchema, error) {
	s, err := r.cl.SchemaByVersion(ctx, subject, -1)
	if err != nil {
		e := r.wrap(fmt.Sprintf("reading the latest schema of subject '%s'", subject), err)
		if e.NotFound {
			e.Msg = fmt.Sprintf("schema registry %s: subject '%s' not found", r.endpoint, subject)
			e.Err = nil
		}
		return sr.SubjectSchema{}, e
	}
	r.mu.Lock()
	r.byID[s.ID] = s.Schema
	r.mu.Unlock()
	return s, nil
}

// Ping checks that the registry answers (and accepts the credentials), for
// connection tests.
func (r *Registry) Ping(ctx context.Context) error {
	if _, err := r.cl.Subjects(ctx); err != nil {
		return r.wrap("listing subjects", err)
	}
	return nil
}

// ValueSubject is the subject of a topic's values under Confluent's default
// TopicNameStrategy.
func ValueSubject(topic string) string { return topic + "-value" }
