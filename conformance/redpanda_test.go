package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/arroyogo/arroyo/conformance"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/redpanda"
)

// redpandaImage is the pinned Redpanda image (it includes a Schema
// Registry).
const redpandaImage = "docker.redpanda.com/redpandadata/redpanda:v24.2.4"

// TestRedpanda runs the suite against Redpanda in a container, for
// developers who have Docker; it skips cleanly where no Docker engine
// answers (this project's machines and CI).
func TestRedpanda(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := redpanda.Run(ctx, redpandaImage, redpanda.WithAutoCreateTopics())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := testcontainers.TerminateContainer(c); err != nil {
			t.Errorf("terminate: %v", err)
		}
	}()
	seed, err := c.KafkaSeedBroker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := c.SchemaRegistryAddress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	runSuite(t, conformance.Target{Name: "redpanda", Bootstrap: seed, SchemaRegistry: sr, Partitions: 3})
}
