// Command wirebench measures Sluice through its wire protocols, with the real server started
// in-process by app.Start on loopback ports and a temporary data dir:
//
//   - pull-query throughput and p50/p99 latency over pgwire (pgx v5, extended protocol with
//     a $1 parameter; N concurrent connections) and over REST (POST /query, keep-alive);
//
//   - insert-to-push latency: a push query subscribed over pgwire while rows are inserted at a
//     fixed rate through the engine; each row carries its insert time, so latency is measured
//     from just before the insert call to the row's arrival at the subscriber.
//
//     go run ./server/cmd/wirebench [-conns 16] [-duration 10s] [-rate 10000] [-push-duration 10s]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/server/app"
)

var (
	conns        = flag.Int("conns", 16, "concurrent connections for the pull benchmarks")
	duration     = flag.Duration("duration", 10*time.Second, "length of each pull benchmark")
	keys         = flag.Int("keys", 10_000, "rows in the queried table")
	rate         = flag.Int("rate", 10_000, "inserts per second for the push-latency benchmark")
	pushDuration = flag.Duration("push-duration", 10*time.Second, "length of the push-latency benchmark")
	only         = flag.String("only", "", "run one benchmark: pgwire, rest or push (default: all)")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wirebench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "wirebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	a, err := app.Start(ctx, app.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", PGAddr: "127.0.0.1:0",
		Logf: func(f string, args ...any) { fmt.Fprintf(os.Stderr, "server: "+f+"\n", args...) }})
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Printf("wirebench: server on http://%s and pg %s, data in %s\n", a.HTTPAddr(), a.PGAddr(), dir)

	s := engine.NewSession()
	if _, err := a.Engine.Execute(ctx, s, `CREATE STREAM orders (ORDERID STRING, CUSTOMERID STRING, AMOUNT DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=2);
		CREATE TABLE totals AS SELECT CUSTOMERID, COUNT(*) AS N, SUM(AMOUNT) AS TOTAL FROM orders GROUP BY CUSTOMERID EMIT CHANGES;
		CREATE STREAM events (ID BIGINT, TS BIGINT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON', PARTITIONS=1);`); err != nil {
		return err
	}
	for i := 0; i < *keys; i++ {
		row := map[string]any{"ORDERID": "o" + strconv.Itoa(i), "CUSTOMERID": "c" + strconv.Itoa(i), "AMOUNT": json.Number(strconv.Itoa(i) + ".5")}
		if err := a.Engine.InsertJSON(ctx, s, "orders", row); err != nil {
			return err
		}
	}
	if err := a.Engine.Quiesce(ctx); err != nil {
		return err
	}
	// Wait until the last key is visible to pull queries (state is committed on an interval).
	last := fmt.Sprintf("c%d", *keys-1)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if n, _ := pullREST(&http.Client{}, a.HTTPAddr(), last); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("key %s never became visible to pull queries", last)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("setup: %d-row table TOTALS ready\n", *keys)

	if *only == "" || *only == "pgwire" {
		if err := benchPullPgwire(ctx, a); err != nil {
			return fmt.Errorf("pgwire pull: %w", err)
		}
	}
	if *only == "" || *only == "rest" {
		if err := benchPullREST(a); err != nil {
			return fmt.Errorf("REST pull: %w", err)
		}
	}
	if *only == "" || *only == "push" {
		if err := benchPush(ctx, a); err != nil {
			return fmt.Errorf("push latency: %w", err)
		}
	}
	return nil
}

// stats summarizes latencies.
type stats struct {
	n             int
	errs          int
	elapsed       time.Duration
	p50, p99, max time.Duration
}

func summarize(lat [][]time.Duration, errs int, elapsed time.Duration) stats {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	st := stats{n: len(all), errs: errs, elapsed: elapsed}
	if len(all) > 0 {
		st.p50 = all[len(all)*50/100]
		st.p99 = all[len(all)*99/100]
		st.max = all[len(all)-1]
	}
	return st
}

func (st stats) print(name string) {
	fmt.Printf("%-14s conns=%d queries=%d errors=%d seconds=%.2f q/s=%.0f p50=%s p99=%s max=%s\n",
		name, *conns, st.n, st.errs, st.elapsed.Seconds(), float64(st.n)/st.elapsed.Seconds(), ms(st.p50), ms(st.p99), ms(st.max))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

// loadLoop runs fn on *conns goroutines for *duration and gathers latencies.
func loadLoop(setup func(i int) (func(key string) error, func(), error)) (stats, error) {
	lat := make([][]time.Duration, *conns)
	errs := make([]int, *conns)
	fns := make([]func(string) error, *conns)
	for i := range fns {
		fn, closeFn, err := setup(i)
		if err != nil {
			return stats{}, err
		}
		defer closeFn()
		fns[i] = fn
	}
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(*duration)
	for i := range fns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 42))
			for time.Now().Before(end) {
				key := "c" + strconv.Itoa(r.IntN(*keys))
				t0 := time.Now()
				if err := fns[i](key); err != nil {
					errs[i]++
					if errs[i] == 1 {
						fmt.Fprintf(os.Stderr, "conn %d: %v\n", i, err)
					}
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}(i)
	}
	wg.Wait()
	total := 0
	for _, e := range errs {
		total += e
	}
	return summarize(lat, total, time.Since(start)), nil
}

func benchPullPgwire(ctx context.Context, a *app.App) error {
	host, port, _ := strings.Cut(a.PGAddr(), ":")
	url := fmt.Sprintf("postgres://bench@%s:%s/sluice?sslmode=disable", host, port)
	st, err := loadLoop(func(int) (func(string) error, func(), error) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return nil, nil, err
		}
		return func(key string) error {
				var cust string
				var n int64
				var total float64
				if err := c.QueryRow(ctx, `SELECT * FROM totals WHERE CUSTOMERID = $1`, key).Scan(&cust, &n, &total); err != nil {
					return err
				}
				if cust != key || n != 1 {
					return fmt.Errorf("pull %s: got (%s, %d)", key, cust, n)
				}
				return nil
			}, func() {
				c.Close(ctx)
			}, nil
	})
	if err != nil {
		return err
	}
	st.print("pull/pgwire")
	return nil
}

// pullREST runs one pull query through POST /query and returns the number of rows.
func pullREST(c *http.Client, addr, key string) (int, error) {
	body := `{"ksql":"SELECT * FROM totals WHERE CUSTOMERID = '` + key + `';"}`
	resp, err := c.Post("http://"+addr+"/query", "application/vnd.ksql.v1+json", bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	var items []map[string]any
	if err := json.Unmarshal(b, &items); err != nil {
		return 0, fmt.Errorf("%v: %s", err, b)
	}
	rows := 0
	for _, it := range items {
		if _, ok := it["row"]; ok {
			rows++
		}
	}
	return rows, nil
}

func benchPullREST(a *app.App) error {
	st, err := loadLoop(func(int) (func(string) error, func(), error) {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
		return func(key string) error {
				n, err := pullREST(c, a.HTTPAddr(), key)
				if err == nil && n != 1 {
					err = fmt.Errorf("pull %s: %d rows", key, n)
				}
				return err
			}, func() {
				c.CloseIdleConnections()
			}, nil
	})
	if err != nil {
		return err
	}
	st.print("pull/rest")
	return nil
}

// benchPush subscribes over pgwire and inserts at a fixed rate through the engine.
func benchPush(ctx context.Context, a *app.App) error {
	host, port, _ := strings.Cut(a.PGAddr(), ":")
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://bench@%s:%s/sluice?sslmode=disable", host, port))
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	total := int(float64(*rate) * pushDuration.Seconds())
	qctx, cancel := context.WithTimeout(ctx, *pushDuration+30*time.Second)
	defer cancel()
	// pgx's Query returns only once the first row arrives (the server does not flush the
	// RowDescription of a push query before it has a row), so subscribe in the receiving
	// goroutine and wait until the engine lists the push query before inserting.
	lat := make([]time.Duration, 0, total)
	recvDone := make(chan error, 1)
	go func() {
		rows, err := c.Query(qctx, fmt.Sprintf(`SELECT ID, TS FROM events EMIT CHANGES LIMIT %d`, total))
		if err != nil {
			recvDone <- err
			return
		}
		for rows.Next() {
			var id, ts int64
			if err := rows.Scan(&id, &ts); err != nil {
				recvDone <- err
				return
			}
			lat = append(lat, time.Duration(time.Now().UnixNano()-ts))
		}
		recvDone <- rows.Err()
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err := a.Engine.Execute(ctx, nil, "SHOW QUERIES;")
		if err == nil && len(res) == 1 && strings.Contains(fmt.Sprint(res[0].Entity["queries"]), "PUSH") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the push query did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}

	s := engine.NewSession()
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	behind := 0
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		} else if d < -10*time.Millisecond {
			behind++
		}
		row := map[string]any{"ID": json.Number(strconv.Itoa(i)), "TS": json.Number(strconv.FormatInt(time.Now().UnixNano(), 10))}
		if err := a.Engine.InsertJSON(ctx, s, "events", row); err != nil {
			return err
		}
	}
	sent := time.Since(start)
	if err := <-recvDone; err != nil {
		return err
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return fmt.Errorf("no rows arrived")
	}
	fmt.Printf("%-14s inserts=%d target=%d/s achieved=%.0f/s rows=%d p50=%s p99=%s max=%s (inserts >10ms behind schedule: %d)\n",
		"insert->push", total, *rate, float64(total)/sent.Seconds(), len(lat),
		ms(lat[len(lat)*50/100]), ms(lat[len(lat)*99/100]), ms(lat[len(lat)-1]), behind)
	return nil
}
