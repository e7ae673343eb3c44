// Package storetest starts a throwaway PostgreSQL server for tests from
// the machine's PostgreSQL binaries (Debian's postgresql package:
// /usr/lib/postgresql/N/bin), on 127.0.0.1 and a free port, with its data
// in the test's temporary directory; the test's cleanup stops it by PID.
//
// Without the binaries the test is skipped, unless ARROYO_REQUIRE_POSTGRES=1
// (as CI sets), when it fails. ARROYO_POSTGRES_BIN names the directory of
// initdb and postgres when they are elsewhere.
//
// It must not import the rest of the module.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Server is a running PostgreSQL server.
type Server struct {
	Port int
	// Log is the server's log file.
	Log string
	n   atomic.Int64
}

// Binaries returns the directory holding initdb and postgres, or "".
func Binaries() string {
	if d := os.Getenv("ARROYO_POSTGRES_BIN"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start starts a server for tb, stopped when tb's cleanup runs.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := Binaries()
	if bin == "" {
		if os.Getenv("ARROYO_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("ARROYO_REQUIRE_POSTGRES=1 but no PostgreSQL binaries found (apt-get install postgresql, or set ARROYO_POSTGRES_BIN)")
		}
		tb.Skip("no PostgreSQL binaries (apt-get install postgresql); set ARROYO_REQUIRE_POSTGRES=1 to fail instead")
	}
	dir := tb.TempDir()
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	for _, d := range []string{data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: run it as the postgres user,
		// who must be able to reach the data directory.
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("running as root and there is no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for p := dir; p != "/" && p != "." && p != os.TempDir(); p = filepath.Dir(p) {
			if err := os.Chmod(p, 0o711); err != nil {
				tb.Fatal(err)
			}
		}
		for _, d := range []string{data, sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				tb.Fatal(err)
			}
		}
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { logFile.Close() })
	if cred != nil {
		os.Chown(logPath, int(cred.Uid), int(cred.Gid))
	}

	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "arroyo", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-locale")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}

	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	srv := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", sock,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	srv.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		tb.Fatalf("start postgres: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	tb.Cleanup(func() {
		// SIGINT is PostgreSQL's fast shutdown: sessions are ended,
		// then the server exits.
		_ = srv.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
	})
	s := &Server{Port: port, Log: logPath}
	if err := s.waitReady(exited); err != nil {
		log, _ := os.ReadFile(logPath)
		tb.Fatalf("postgres did not become ready: %v\n%s", err, log)
	}
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DSN is the connection string of database db.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://arroyo@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

func (s *Server) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case e := <-exited:
			return fmt.Errorf("the server exited: %v", e)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("timed out after 60s: " + err.Error())
		}
	}
}

// NewDatabase creates an empty database on the server and returns its
// connection string.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test_%d", s.n.Add(1))
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	return s.DSN(name)
}
