package main

import (
	"context"

	"github.com/arroyogo/arroyo/connectors/preview"
	"github.com/arroyogo/arroyo/controlplane/api"
)

// streamPreview is the cluster runner's Preview: the rows a job's preview
// sink wrote, as the API's output events.
func streamPreview(ctx context.Context, jobID string, done <-chan struct{}, emit func(api.OutputData) error) error {
	return preview.Stream(ctx, jobID, done, func(b preview.Batch) error {
		return emit(api.OutputData{OperatorID: b.OperatorID, Subtask: b.Subtask, Timestamp: b.Time.UnixMicro(), StartID: b.StartID, Batch: string(b.Lines)})
	})
}
