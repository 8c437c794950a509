package rest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkPullQueryREST measures a whole pull query over loopback HTTP/1.1 keep-alive: request
// decoding, the cursor, value encoding and the response, against the fake backend. Sub-benchmarks
// vary the number of rows; rows/s is reported.
func BenchmarkPullQueryREST(b *testing.B) {
	for _, tc := range []struct {
		name, path, body, accept string
		rows                     int
	}{
		{"query/1row", "/query", `{"ksql":"SELECT * FROM PULL WHERE ID='10';"}`, "", 1},
		{"query/1000rows", "/query", `{"ksql":"SELECT * FROM MANY;"}`, "", 1000},
		{"query-stream/1000rows", "/query-stream", `{"sql":"SELECT * FROM MANY;"}`, "", 1000},
	} {
		b.Run(tc.name, func(b *testing.B) {
			be := newFakeBackend()
			be.pullRows = tc.rows
			ts := startServer(b, be, Config{})
			client := ts.Client()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+tc.path, strings.NewReader(tc.body))
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || n == 0 {
					b.Fatalf("status %d, %d bytes, %v", resp.StatusCode, n, err)
				}
			}
			b.ReportMetric(float64(tc.rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
