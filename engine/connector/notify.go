package connector

import "context"

// CheckpointNotifier is an optional interface of sources that act when a
// checkpoint is complete: a Kafka source commits its consumer group's
// offsets there (the positions in the checkpoint stay the truth; the
// committed offsets are for the group's lag and for tools).
//
// The runtime calls CheckpointDone on the source's own goroutine, between
// two Poll calls, never concurrently with Poll, Snapshot or Close, once
// for every checkpoint that completed while the subtask runs, in epoch
// order, and never for a checkpoint that did not complete (a failure or a
// Cancel before every subtask acknowledged it). The notification travels
// on the subtask's control inbox, so it never waits behind data queued
// downstream; a source blocked in Emit by backpressure gets it once that
// Emit returns. After the stop barrier the source is not polled again, but
// it is kept (not closed) until the stop checkpoint is complete and its
// CheckpointDone has returned, so the final positions are committed too.
// A subtask that reached end of input (Poll returned io.EOF) has exited
// and is told nothing more.
//
// An error fails the job, like a failed Poll.
type CheckpointNotifier interface {
	CheckpointDone(ctx context.Context, epoch uint64) error
}
