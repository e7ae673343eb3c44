// Package blackhole registers the "blackhole" sink, which discards every
// row: the sink of benchmarks and of pipelines run for their side effects.
package blackhole

import (
	"context"

	"github.com/arroyogo/arroyo/engine/coldata"
	"github.com/arroyogo/arroyo/engine/connector"
)

func init() {
	connector.Register(&connector.Connector{
		Name:        "blackhole",
		Description: "Discards every row written to it.",
		// Discarding a changelog is as easy as discarding rows.
		AcceptsChangelog: true,
		NewSink:          func(*connector.Table, connector.SinkTask) (connector.Sink, error) { return sink{}, nil },
	})
}

type sink struct{}

func (sink) Write(context.Context, *coldata.Batch) error { return nil }
func (sink) Finish(context.Context) error                { return nil }
