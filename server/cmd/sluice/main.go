// Command sluice is the Sluice server: `sluice` (or `sluice run`) serves streaming SQL over
// REST, the web console and the Postgres wire protocol; `sluice test-qtt PATH...` runs ksqlDB's
// query-validation tests against the engine.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/sluicedb/sluice/exec/gcpace"
	"github.com/sluicedb/sluice/server/app"
	"github.com/sluicedb/sluice/server/qtt"
	"github.com/sluicedb/sluice/storage"
	"github.com/sluicedb/sluice/storage/kafka"
)

const version = "0.1.0"

func main() {
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "test-qtt":
			os.Exit(qtt.Main(args[1:], os.Stdout, os.Stderr))
		case "version", "--version":
			fmt.Println("sluice", version)
			return
		case "run":
			args = args[1:]
		}
	}
	os.Exit(run(args))
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(env(name, "")); err == nil {
		return v
	}
	return def
}

func envInt64(name string, def int64) int64 {
	if v, err := strconv.ParseInt(env(name, ""), 10, 64); err == nil {
		return v
	}
	return def
}

func run(args []string) int {
	fs := flag.NewFlagSet("sluice", flag.ContinueOnError)
	dataDir := fs.String("data-dir", env("SLUICE_DATA_DIR", "data"), "directory for the built-in log and state (env SLUICE_DATA_DIR)")
	httpAddr := fs.String("http-addr", env("SLUICE_HTTP_ADDR", "127.0.0.1:8088"), "REST API and web console address (env SLUICE_HTTP_ADDR)")
	pgAddr := fs.String("pg-addr", env("SLUICE_PG_ADDR", "127.0.0.1:5433"), "Postgres wire protocol address (env SLUICE_PG_ADDR)")
	fsync := fs.String("fsync", env("SLUICE_FSYNC", "interval"), "built-in log durability: always, interval or never (env SLUICE_FSYNC)")
	brokers := fs.String("kafka-brokers", env("SLUICE_KAFKA_BROKERS", ""), "put every topic on this Kafka cluster instead of the built-in log, host:port[,...] (env SLUICE_KAFKA_BROKERS)")
	users := fs.String("users", env("SLUICE_USERS", ""), "require passwords: user:password[,user:password...] (env SLUICE_USERS)")
	tlsCert := fs.String("tls-cert", env("SLUICE_TLS_CERT", ""), "TLS certificate file (env SLUICE_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("SLUICE_TLS_KEY", ""), "TLS key file (env SLUICE_TLS_KEY)")
	partitions := fs.Int("partitions", 1, "partitions of topics the server creates without a PARTITIONS property")
	gcPercent := fs.Int("gc-percent", envInt("SLUICE_GC_PERCENT", gcpace.DefaultPercent), "Go garbage collector target percentage, as GOGC (env SLUICE_GC_PERCENT; GOGC wins)")
	memLimit := fs.Int64("memory-limit-mb", envInt64("SLUICE_MEMORY_LIMIT_MB", 0), "soft limit of the process's Go memory in MiB; 0: half of the machine's memory (env SLUICE_MEMORY_LIMIT_MB; GOMEMLIMIT wins)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := log.New(os.Stderr, "sluice: ", log.LstdFlags)
	if p, l := gcpace.Apply(*gcPercent, *memLimit<<20); l > 0 {
		logger.Printf("garbage collector: GOGC=%d, soft memory limit %d MiB", p, l>>20)
	}
	cfg := app.Config{DataDir: *dataDir, HTTPAddr: *httpAddr, PGAddr: *pgAddr, Fsync: *fsync,
		TLSCert: *tlsCert, TLSKey: *tlsKey, Partitions: *partitions, Logf: logger.Printf}
	if *users != "" {
		cfg.Users = map[string]string{}
		for _, up := range strings.Split(*users, ",") {
			u, p, ok := strings.Cut(up, ":")
			if !ok {
				logger.Printf("--users: %q is not user:password", up)
				return 2
			}
			cfg.Users[u] = p
		}
	}
	if *brokers != "" {
		list := strings.Split(*brokers, ",")
		cfg.OpenLog = func(ctx context.Context) (storage.Log, error) { return kafka.Open(ctx, list) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, cfg)
	if err != nil {
		logger.Printf("%v", err)
		return 1
	}
	where := "built-in log in " + *dataDir
	if *brokers != "" {
		where = "Kafka at " + *brokers
	}
	fmt.Printf("Sluice %s is running (%s)\n  REST API and console: http://%s\n  Postgres wire:        %s\n  Try: psql -h %s -p %s\n",
		version, where, a.HTTPAddr(), a.PGAddr(), hostOf(a.PGAddr()), portOf(a.PGAddr()))
	<-ctx.Done()
	fmt.Println("shutting down")
	if err := a.Close(); err != nil {
		logger.Printf("shutdown: %v", err)
		return 1
	}
	return 0
}

func hostOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[:i]
}

func portOf(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[i+1:]
}
