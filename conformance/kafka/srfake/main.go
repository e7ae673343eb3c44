// Command srfake serves franz-go's in-memory fake Confluent Schema Registry
// on 127.0.0.1 for tests and CI runs against a real Kafka broker (there is
// no Schema Registry on Maven Central): broker.sh starts it beside the
// broker and exports its URL as ARROYO_CONFORMANCE_SCHEMA_REGISTRY.
//
// Its compatibility checks always answer "compatible", which is why our
// sinks check compatibility themselves (connectors/schemareg).
//
//	srfake [-addr 127.0.0.1:0] [-url-file PATH]
//
// It prints the URL on stdout (and writes it to -url-file) once it
// listens, and exits on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	urlFile := flag.String("url-file", "", "write the registry URL to this file once listening")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("srfake: -addr must be a loopback address, got %q", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("srfake: %v", err)
	}
	url := "http://" + ln.Addr().String()
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o644); err != nil {
			log.Fatalf("srfake: %v", err)
		}
	}
	fmt.Println(url)
	srv := &http.Server{Handler: srfake.NewRegistry().Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatalf("srfake: %v", err)
	}
}
