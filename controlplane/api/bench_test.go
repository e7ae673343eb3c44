package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/arroyogo/arroyo/connectors/all"
	"github.com/arroyogo/arroyo/controlplane/api"
	"github.com/arroyogo/arroyo/controlplane/client"
	"github.com/arroyogo/arroyo/controlplane/store"
	"github.com/arroyogo/arroyo/controlplane/store/storetest"
)

// BenchmarkListPipelines measures GET /api/v1/pipelines with 1,000 stored
// pipelines, through HTTP on loopback, and reports the p50 and p99
// latency of a page of 100 (the default) and of all 1,000.
func BenchmarkListPipelines(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		st, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(b.TempDir(), "state.sqlite")})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		benchList(b, st)
	})
	b.Run("postgres", func(b *testing.B) {
		srv := storetest.Start(b)
		st, err := store.Open(ctx, store.Config{Postgres: srv.NewDatabase(b)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		benchList(b, st)
	})
}

func benchList(b *testing.B, st *store.Store) {
	f := newFixtureOn(b, st, nil)
	// One planned pipeline's graph, as POST /pipelines stores it.
	p, err := f.c.CreatePipeline(ctx, api.PipelinePost{Name: "p0", Query: query, Parallelism: 1})
	if err != nil {
		b.Fatal(err)
	}
	graph, _ := json.Marshal(p.Graph)
	for i := 1; i < 1000; i++ {
		if err := st.CreatePipeline(ctx, &store.Pipeline{Name: fmt.Sprint("p", i), Query: query, Parallelism: 1, Graph: graph}); err != nil {
			b.Fatal(err)
		}
	}
	for _, limit := range []int{100, 1000} {
		// The handler alone, without the network and the client's
		// decoding.
		b.Run(fmt.Sprintf("handler/limit=%d", limit), func(b *testing.B) {
			lat := make([]time.Duration, 0, 1024)
			for b.Loop() {
				t0 := time.Now()
				req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/pipelines?limit=%d", limit), nil)
				req.Header.Set("Authorization", "Bearer "+token)
				w := httptest.NewRecorder()
				f.srv.ServeHTTP(w, req)
				lat = append(lat, time.Since(t0))
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
		b.Run(fmt.Sprintf("http/limit=%d", limit), func(b *testing.B) {
			url := fmt.Sprintf("%s/api/v1/pipelines?limit=%d", f.http.URL, limit)
			lat := make([]time.Duration, 0, 1024)
			for b.Loop() {
				t0 := time.Now()
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var out api.PipelineCollection
				if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				if len(out.Data) != limit {
					b.Fatalf("%d pipelines, want %d", len(out.Data), limit)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkTableTestFirstEvent measures the time from a table test's
// request to its first SSE event, and to its last (done), for a generator
// without a network (a Kafka table's steps are its connector's).
func BenchmarkTableTestFirstEvent(b *testing.B) {
	f := newFixture(b, func(o *api.Options) { o.SampleRows = 1 })
	body := `{"name":"t","connector":"nexmark","config":{"event_rate":"1000000"}}`
	var first, last []time.Duration
	for b.Loop() {
		t0 := time.Now()
		req, _ := http.NewRequest("POST", f.http.URL+"/api/v1/connection_tables/test", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		err = client.ReadEvents(resp.Body, func([]byte) error {
			if n == 0 {
				first = append(first, time.Since(t0))
			}
			n++
			return nil
		})
		resp.Body.Close()
		if err != nil || n != 4 {
			b.Fatalf("%d events, %v", n, err)
		}
		last = append(last, time.Since(t0))
	}
	slices.Sort(first)
	slices.Sort(last)
	b.ReportMetric(float64(first[len(first)/2].Microseconds())/1000, "first-p50-ms")
	b.ReportMetric(float64(last[len(last)/2].Microseconds())/1000, "done-p50-ms")
}
