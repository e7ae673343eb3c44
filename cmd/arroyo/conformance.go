package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/arroyogo/arroyo/conformance"
)

type conformanceFlags struct {
	target       conformance.Target
	saslBS       string
	saslProto    string
	saslMechs    string
	saslUser     string
	saslPassword string
	tlsBS        string
	tlsCA        string
	tlsSkip      bool
	restart      string
	run          string
	junit        string
	list         bool
}

func newConformance() *cobra.Command {
	var f conformanceFlags
	cmd := &cobra.Command{
		Use:   "conformance --bootstrap-servers HOST:PORT [flags]",
		Short: "Run the connector conformance suite against a Kafka cluster",
		Long: `Conformance runs the Kafka connector conformance suite (docs/conformance.md)
against a cluster: real pipelines in this process read and write topics it
creates (named conf-<random>-...) and deletes afterwards. It prints a pass/fail
table and exits 1 if any definition failed; --junit also writes a JUnit XML
report for CI. The SASL and TLS definitions run only when their listener is
given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConformance(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target.Bootstrap, "bootstrap-servers", "", "PLAINTEXT listener of the cluster (host:port[,host:port])")
	fl.StringVar(&f.target.SchemaRegistry, "schema-registry", "", "Schema Registry URL, for the registry definitions")
	fl.IntVar(&f.target.Partitions, "partitions", 3, "partitions of the test topics")
	fl.StringVar(&f.saslBS, "sasl-bootstrap-servers", "", "SASL listener, for the authentication definitions")
	fl.StringVar(&f.saslProto, "sasl-protocol", "SASL_PLAINTEXT", "SASL_PLAINTEXT or SASL_SSL")
	fl.StringVar(&f.saslMechs, "sasl-mechanisms", "PLAIN", "comma-separated mechanisms the user can log in with (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
	fl.StringVar(&f.saslUser, "sasl-username", "", "SASL user")
	fl.StringVar(&f.saslPassword, "sasl-password", "", "SASL password (or set ARROYO_CONFORMANCE_SASL_PASSWORD)")
	fl.StringVar(&f.tlsBS, "tls-bootstrap-servers", "", "SSL listener, for the TLS definitions")
	fl.StringVar(&f.tlsCA, "tls-ca-file", "", "PEM CA of the SSL listener's certificates")
	fl.BoolVar(&f.tlsSkip, "tls-insecure-skip-verify", false, "do not verify the SSL listener's certificate")
	fl.StringVar(&f.restart, "restart-command", "", "shell command that restarts every broker and returns once they accept connections (the broker_restart definition; skipped without it)")
	fl.StringVar(&f.run, "run", "", "run only the definitions whose names match this regular expression")
	fl.StringVar(&f.junit, "junit", "", "write a JUnit XML report to this file")
	fl.BoolVar(&f.list, "list", false, "list the definitions and exit")
	return cmd
}

func runConformance(ctx context.Context, f conformanceFlags, stdout, stderr io.Writer) error {
	defs := conformance.Definitions()
	if f.list {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, d := range defs {
			fmt.Fprintf(tw, "%s\t%s\n", d.Name, d.Description)
		}
		return tw.Flush()
	}
	t := f.target
	t.Name = "cli"
	if t.Bootstrap == "" {
		return fmt.Errorf("--bootstrap-servers is required (the cluster's PLAINTEXT listener, host:port)")
	}
	if f.saslBS != "" {
		pw := f.saslPassword
		if pw == "" {
			pw = os.Getenv("ARROYO_CONFORMANCE_SASL_PASSWORD")
		}
		if f.saslUser == "" {
			return fmt.Errorf("--sasl-bootstrap-servers needs --sasl-username")
		}
		s := &conformance.SASL{Bootstrap: f.saslBS, Protocol: f.saslProto, Username: f.saslUser, Password: pw}
		for _, m := range strings.Split(f.saslMechs, ",") {
			if m = strings.TrimSpace(m); m != "" {
				s.Mechanisms = append(s.Mechanisms, m)
			}
		}
		t.SASL = s
	}
	if f.tlsBS != "" {
		t.TLS = &conformance.TLS{Bootstrap: f.tlsBS, CAFile: f.tlsCA, SkipVerify: f.tlsSkip}
	}
	if f.restart != "" {
		t.Restart = conformance.RestartCommand(f.restart)
	}
	start := time.Now()
	results, err := conformance.Run(ctx, t, defs, f.run, nil)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("no definition matches --run %q (see --list)", f.run)
	}
	failed := printResults(stdout, results)
	if f.junit != "" {
		if err := writeJUnit(f.junit, results, time.Since(start)); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d conformance definitions failed", failed, len(results))
	}
	return nil
}

// printResults prints the pass/fail table and returns the failures.
func printResults(w io.Writer, results []conformance.Result) int {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEFINITION\tRESULT\tTIME\tDETAIL")
	failed, passed, skipped := 0, 0, 0
	for _, r := range results {
		status, detail := "pass", ""
		switch {
		case r.Skipped != "":
			status, detail = "skip", r.Skipped
			skipped++
		case r.Err != nil:
			status, detail = "FAIL", strings.ReplaceAll(r.Err.Error(), "\n", " ")
			failed++
		default:
			passed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1fs\t%s\n", r.Name, status, r.Duration.Seconds(), detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	return failed
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
}

func writeJUnit(path string, results []conformance.Result, total time.Duration) error {
	s := junitSuite{Name: "arroyo-conformance", Tests: len(results), Time: fmt.Sprintf("%.3f", total.Seconds())}
	for _, r := range results {
		c := junitCase{Name: r.Name, Classname: "conformance.kafka", Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
		switch {
		case r.Skipped != "":
			c.Skipped = &junitMessage{Message: r.Skipped}
			s.Skipped++
		case r.Err != nil:
			c.Failure = &junitMessage{Message: r.Err.Error()}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	out, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(out, '\n')...), 0o644); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}
