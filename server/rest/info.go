package rest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

// handleInfo serves GET /info.
func (s *server) handleInfo(w http.ResponseWriter, r *http.Request) {
	info := s.cfg.ServerInfo
	writeJSON(w, s.jsonType(r), http.StatusOK, map[string]any{
		"KsqlServerInfo": map[string]any{
			"version":        info.Version,
			"kafkaClusterId": info.KafkaClusterID,
			"ksqlServiceId":  info.ServiceID,
			"serverStatus":   "RUNNING",
		},
	})
}

// handleHealthcheck serves GET /healthcheck. The process answering is the whole health signal:
// the engine, its metastore and its log live in this process.
func (s *server) handleHealthcheck(w http.ResponseWriter, r *http.Request) {
	healthy := map[string]any{"isHealthy": true}
	writeJSON(w, s.jsonType(r), http.StatusOK, map[string]any{
		"isHealthy":   true,
		"details":     map[string]any{"metastore": healthy, "kafka": healthy},
		"serverState": "RUNNING",
	})
}

// handleStatuses serves GET /status: every command status this server has seen.
func (s *server) handleStatuses(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.jsonType(r), http.StatusOK, map[string]any{"commandStatuses": s.statuses.all()})
}

// handleStatus serves GET /status/{type}/{entity}/{action}, e.g. /status/stream/PAGEVIEWS/create.
func (s *server) handleStatus(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "type") + "/" + chi.URLParam(r, "entity") + "/" + chi.URLParam(r, "action")
	st, ok := s.statuses.get(id)
	if !ok {
		writeError(w, s.jsonType(r), &apiError{status: http.StatusNotFound, code: codeNotFound,
			msg: "Command not found: " + id})
		return
	}
	writeJSON(w, s.jsonType(r), http.StatusOK, st)
}

// handleClusterStatus serves GET /clusterStatus for a single-node cluster: this host, alive,
// with no standby or lag information.
func (s *server) handleClusterStatus(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixMilli()
	host := r.Host
	if host == "" {
		host = "localhost:8088"
	}
	writeJSON(w, s.jsonType(r), http.StatusOK, map[string]any{
		"clusterStatus": map[string]any{
			host: map[string]any{
				"hostAlive":             true,
				"lastStatusUpdateMs":    now,
				"activeStandbyPerQuery": map[string]any{},
				"hostStoreLags": map[string]any{
					"stateStoreLags": map[string]any{},
					"updateTimeMs":   now,
				},
			},
		},
	})
}

// handleIsValidProperty serves GET /is_valid_property/{name}: the JSON literal true, or a 400
// error saying why a client may not set the property.
func (s *server) handleIsValidProperty(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if err := validateProperty(name); err != nil {
		writeError(w, s.jsonType(r), badRequest(err.Error()))
		return
	}
	writeJSON(w, s.jsonType(r), http.StatusOK, true)
}

// deniedProperties may not be overridden per request: they identify the server or its storage.
var deniedProperties = map[string]bool{
	"ksql.service.id":                         true,
	"ksql.internal.topic.replicas":            true,
	"ksql.internal.topic.min.insync.replicas": true,
	"ksql.persistent.prefix":                  true,
	"ksql.transient.prefix":                   true,
	"bootstrap.servers":                       true,
	"ksql.streams.bootstrap.servers":          true,
	"ksql.streams.state.dir":                  true,
	"ksql.output.topic.name.prefix":           true,
}

// plainProperties are Kafka Streams, consumer and producer settings accepted without a prefix.
var plainProperties = map[string]bool{
	"auto.offset.reset": true, "processing.guarantee": true, "cache.max.bytes.buffering": true,
	"statestore.cache.max.bytes": true, "commit.interval.ms": true, "num.stream.threads": true,
	"buffered.records.per.partition": true, "max.task.idle.ms": true, "max.poll.records": true,
	"fetch.min.bytes": true, "fetch.max.wait.ms": true, "linger.ms": true, "batch.size": true,
	"acks": true, "compression.type": true, "retries": true,
}

func validateProperty(name string) error {
	if deniedProperties[name] {
		return fmt.Errorf("One or more properties overrides set locally are prohibited by the KSQL server "+
			"(use UNSET to reset their default value): [%s]", name)
	}
	if plainProperties[name] {
		return nil
	}
	for _, p := range []string{"ksql.", "streams.", "consumer.", "producer.", "request.ksql."} {
		if strings.HasPrefix(name, p) && len(name) > len(p) {
			return nil
		}
	}
	return fmt.Errorf("Not recognizable as ksql, streams, consumer, or producer property: '%s'", name)
}

func (s *server) jsonType(r *http.Request) string {
	if mt := negotiate(r.Header.Get("Accept"), jsonTypes); mt != "" {
		return mt
	}
	return mediaJSON
}

// statusRegistry remembers the commandStatus of every currentStatus entity this server
// returned, for GET /status. It keeps the newest maxStatuses.
type statusRegistry struct {
	mu    sync.Mutex // guards byID and order
	byID  map[string]map[string]any
	order []string
}

const maxStatuses = 10000

func newStatusRegistry() *statusRegistry {
	return &statusRegistry{byID: map[string]map[string]any{}}
}

func (sr *statusRegistry) record(ents []map[string]any) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	for _, ent := range ents {
		if ent["@type"] != "currentStatus" {
			continue
		}
		id, _ := ent["commandId"].(string)
		st, _ := ent["commandStatus"].(map[string]any)
		if id == "" || st == nil {
			continue
		}
		if _, seen := sr.byID[id]; !seen {
			sr.order = append(sr.order, id)
		}
		sr.byID[id] = st
		if len(sr.order) > maxStatuses {
			delete(sr.byID, sr.order[0])
			sr.order = sr.order[1:]
		}
	}
}

func (sr *statusRegistry) get(id string) (map[string]any, bool) {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	st, ok := sr.byID[id]
	return st, ok
}

// all returns command id -> status ("SUCCESS", ...), as ksqlDB's CommandStatuses entity.
func (sr *statusRegistry) all() map[string]any {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	out := make(map[string]any, len(sr.byID))
	for id, st := range sr.byID {
		out[id] = st["status"]
	}
	return out
}
