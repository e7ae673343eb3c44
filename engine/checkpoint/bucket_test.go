package checkpoint

import (
	"context"
	"reflect"
	"testing"

	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/arroyogo/arroyo/engine/dataflow"
)

// TestBucketStorage runs the checkpoint directory over object stores: an
// in-memory bucket and a file bucket.
func TestBucketStorage(t *testing.T) {
	ctx := context.Background()
	fb, err := fileblob.OpenBucket(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]Bucket{"mem": {B: memblob.OpenBucket(nil), URL: "mem://"}, "file": {B: fb, URL: "file://"}} {
		t.Run(name, func(t *testing.T) {
			defer b.B.Close()
			d := &Dir{Storage: b, Root: "checkpoints/job_1", Keep: 2}
			prog := testProgram(2)
			for e := uint64(1); e <= 4; e++ {
				if _, err := d.Write(ctx, prog, dataflow.CompletedCheckpoint{Epoch: e, Snapshot: testSnapshot(t, 2, e)}); err != nil {
					t.Fatal(err)
				}
			}
			list, err := d.List(ctx)
			if err != nil || len(list) != 2 || list[0].Epoch != 3 || list[1].Epoch != 4 {
				t.Fatalf("list: %v, %v", list, err)
			}
			m, err := d.Latest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.Load(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, testSnapshot(t, 2, 4)) {
				t.Error("loaded snapshot differs")
			}
			// A missing file names itself.
			if err := b.B.Delete(ctx, m.Dir+"/"+m.Operators[1].Subtasks[0].File); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Load(ctx, m); err == nil {
				t.Error("load with a missing object succeeded")
			}
		})
	}
}
