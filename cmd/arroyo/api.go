package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/arroyogo/arroyo/connectors/kafka"
	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/cluster"
	"github.com/arroyogo/arroyo/controlplane/config"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/engine/expr"
)

func newAPI(configFile *string) *cobra.Command {
	return &cobra.Command{
		Use:   "api",
		Short: "Serve the REST API alone (api.http_port, default 5115), on the configured metadata database",
		Long: `Api serves the REST API under /api/v1 on api.bind_address:api.http_port
(default 127.0.0.1:5115) and the admin endpoint (Prometheus /metrics and
/debug/pprof) on admin.bind_address:admin.http_port (default 5114; -1 turns
it off). It opens the metadata database the configuration names
(database.type sqlite or postgres) and runs its migrations first.

Pipelines created here are stored and planned; running them is the job of
arroyo controller on the same database (PostgreSQL in production): the API
records what should happen (a job to start, a pipeline to stop) and the
controller carries it out and writes the job states back. SIGINT or SIGTERM
shuts the server down.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadControlPlaneConfig(*configFile)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serveAPI(ctx, cfg, cmd.ErrOrStderr())
		},
	}
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func loadControlPlaneConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return cfg, err
	}
	if err := kafka.SetConnectionProfiles(cfg.ConnectionProfiles); err != nil {
		return cfg, err
	}
	return cfg, cfg.ValidateControlPlane()
}

// newLogger builds the process's structured logger from [logging].
func newLogger(l config.Logging, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// storeConfig is the metadata database [database] names.
func storeConfig(d config.Database) (store.Config, string, error) {
	if d.Type == "postgres" {
		u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(d.Postgres.Host, strconv.Itoa(d.Postgres.Port)), Path: "/" + d.Postgres.DatabaseName}
		if d.Postgres.Password != "" {
			u.User = url.UserPassword(d.Postgres.User, d.Postgres.Password)
		} else {
			u.User = url.User(d.Postgres.User)
		}
		u.RawQuery = url.Values{"sslmode": {d.Postgres.SSLMode}}.Encode()
		where := fmt.Sprintf("postgres %s@%s/%s", d.Postgres.User, u.Host, d.Postgres.DatabaseName)
		return store.Config{Postgres: u.String()}, where, nil
	}
	path := d.SQLitePath
	if path == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return store.Config{}, "", fmt.Errorf("database.sqlite.path is not set and there is no user configuration directory: %w", err)
		}
		path = filepath.Join(dir, "arroyo", "config.sqlite")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return store.Config{}, "", fmt.Errorf("database.sqlite.path: %w", err)
	}
	return store.Config{SQLitePath: path}, "sqlite " + path, nil
}

// serveAPI serves the API (and the admin endpoint) on the configured
// metadata database until ctx ends. It runs no pipelines: it records what
// should run (cluster.Desired) for `arroyo controller` to reconcile.
func serveAPI(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	log := newLogger(cfg.Logging, stderr)
	sc, where, err := storeConfig(cfg.Database)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, sc)
	if err != nil {
		return err
	}
	defer st.Close()
	if applied := st.Applied(); len(applied) > 0 {
		log.Info("migrated the metadata database", "database", where, "applied", applied)
	}
	udfs, closeUDFs, err := newUDFHost(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer closeUDFs()
	srv, err := startAPIServer(ctx, st, &cluster.Desired{Store: st}, cfg, cfg.API.HTTPPort, log, nil, withUDFs(udfs))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "API listening on %s%s (metadata: %s)\n", srv.APIURL, api.Prefix, where)
	if srv.AdminURL != "" {
		fmt.Fprintf(stderr, "admin listening on %s (/metrics, /debug/pprof/)\n", srv.AdminURL)
	}
	err = srv.Wait()
	fmt.Fprintln(stderr, "API stopped")
	return err
}

// apiServer is the REST API, and the admin endpoint unless
// admin.http_port is -1, serving until the context it was started with
// ends.
type apiServer struct {
	// APIURL and AdminURL are "http://host:port" (AdminURL "" when off).
	APIURL, AdminURL string
	// Metrics is the registry the admin endpoint serves: register the
	// controller's collectors here.
	Metrics *prometheus.Registry
	done    chan error
}

// startAPIServer serves the API on st at api.bind_address:port (0: a free
// port, as `arroyo run` wants) with runner running the pipelines, and the
// admin endpoint on admin.*. It returns once both listen.
// funcs, if set, is the function registry pipelines are planned with
// (`arroyo run`'s --udf modules); opts adjust the API's options (e.g.
// withUDFs).
func startAPIServer(ctx context.Context, st *store.Store, runner api.Runner, cfg config.Config, port int, log *slog.Logger, funcs *expr.Registry, opts ...func(*api.Options)) (*apiServer, error) {
	reg := api.NewRegistry()
	token := ""
	if cfg.API.AuthMode == "static" {
		token = cfg.API.AuthToken
	}
	o := api.Options{
		Store: st, Runner: runner, AuthToken: token, Logger: log, Metrics: reg,
		MaxParallelism: cfg.Pipeline.MaxParallelism, Version: version(), Functions: funcs,
	}
	for _, f := range opts {
		f(&o)
	}
	srv, err := api.New(o)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.API.BindAddress, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("api: listen on api.bind_address %s, port %d: %w", cfg.API.BindAddress, port, err)
	}
	// Requests' contexts end with ctx, so a streaming connection test
	// does not hold up the shutdown.
	base := func(net.Listener) context.Context { return ctx }
	servers := []*http.Server{{Handler: srv, ReadHeaderTimeout: 10 * time.Second, BaseContext: base}}
	listeners := []net.Listener{ln}
	a := &apiServer{APIURL: "http://" + ln.Addr().String(), Metrics: reg, done: make(chan error, 1)}
	if cfg.Admin.HTTPPort >= 0 {
		aln, err := net.Listen("tcp", net.JoinHostPort(cfg.Admin.BindAddress, strconv.Itoa(cfg.Admin.HTTPPort)))
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("admin: listen on admin.bind_address %s, admin.http_port %d: %w", cfg.Admin.BindAddress, cfg.Admin.HTTPPort, err)
		}
		servers = append(servers, &http.Server{Handler: api.AdminHandler(reg), ReadHeaderTimeout: 10 * time.Second, BaseContext: base})
		listeners = append(listeners, aln)
		a.AdminURL = "http://" + aln.Addr().String()
	}
	errs := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errs <- s.Serve(listeners[i]) }()
	}
	go func() {
		var failed error
		select {
		case <-ctx.Done():
		case err := <-errs:
			if !errors.Is(err, http.ErrServerClosed) {
				failed = fmt.Errorf("api server: %w", err)
			}
		}
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, s := range servers {
			if err := s.Shutdown(shutdown); err != nil {
				s.Close()
			}
		}
		a.done <- failed
	}()
	return a, nil
}

// Wait returns once the servers have shut down (their context ended, or
// one failed: its error).
func (a *apiServer) Wait() error { return <-a.done }
