package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func runArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

func TestConformanceCommand(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	junit := filepath.Join(t.TempDir(), "report.xml")
	out, err := runArgs(t, "conformance", "--bootstrap-servers", strings.Join(c.ListenAddrs(), ","), "--run", "^(source_earliest|bad_data_fail|sasl_success)$", "--junit", junit)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"source_earliest", "bad_data_fail", "sasl_success", "skip", "2 passed, 0 failed, 1 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests   int `xml:"tests,attr"`
		Skipped int `xml:"skipped,attr"`
		Cases   []struct {
			Name string `xml:"name,attr"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(data, &suite); err != nil || suite.Tests != 3 || suite.Skipped != 1 || len(suite.Cases) != 3 {
		t.Errorf("junit report %+v (%v):\n%s", suite, err, data)
	}
}

func TestConformanceCommandFails(t *testing.T) {
	out, err := runArgs(t, "conformance", "--bootstrap-servers", "127.0.0.1:1", "--run", "^source_earliest$")
	if err == nil || !strings.Contains(err.Error(), "1 of 1 conformance definitions failed") || !strings.Contains(out, "FAIL") {
		t.Errorf("err %v\n%s", err, out)
	}
	if _, err := runArgs(t, "conformance"); err == nil || !strings.Contains(err.Error(), "--bootstrap-servers is required") {
		t.Errorf("no bootstrap: %v", err)
	}
	if out, err := runArgs(t, "conformance", "--list"); err != nil || !strings.Contains(out, "exactly_once_kill_midcommit") {
		t.Errorf("list: %v\n%s", err, out)
	}
}
