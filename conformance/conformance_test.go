package conformance_test

import (
	"context"
	"testing"

	"github.com/arroyogo/arroyo/conformance"
	"github.com/arroyogo/arroyo/conformance/kfakeprov"
)

func runSuite(t *testing.T, target conformance.Target) {
	for _, d := range conformance.Definitions() {
		t.Run(d.Name, func(t *testing.T) {
			r := conformance.RunOne(context.Background(), target, d, t.Logf)
			switch {
			case r.Skipped != "":
				t.Skip(r.Skipped)
			case r.Err != nil:
				t.Fatal(r.Err)
			}
		})
	}
}

// TestKfake runs every definition against in-process kfake clusters.
func TestKfake(t *testing.T) {
	target, stop, err := kfakeprov.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	runSuite(t, target)
}

// TestExternal runs the suite against the cluster named by
// ARROYO_CONFORMANCE_KAFKA (docs/conformance.md); CI sets it to the real
// Apache Kafka broker of conformance/kafka/broker.sh.
func TestExternal(t *testing.T) {
	target, ok := conformance.FromEnv(nil)
	if !ok {
		t.Skip("ARROYO_CONFORMANCE_KAFKA is not set")
	}
	runSuite(t, target)
}
