// Package rest serves Sluice's ksqlDB-compatible HTTP API (KSQL_FACTS part A) on a chi router:
// POST /ksql, /query, /query-stream, /inserts-stream, /close-query and the GET endpoints
// /info, /healthcheck, /status, /clusterStatus and /is_valid_property. It owns the wire
// shapes: request decoding and limits, content negotiation, the JSON encoding of row values
// (encode.go), the chunked and delimited streaming writers, error bodies and HTTP Basic auth.
//
// It does not parse or run SQL: every statement goes to a Backend (in production
// *engine.Engine), which returns ksqlDB entities already shaped as JSON objects, cursors for
// queries, and *engine.Error values that carry the ksqlDB error_code. The browser console's
// files live in package web; this package only mounts Config.Static at "/".
//
// # Layers
//
//	backend.go    the Backend interface (*engine.Engine implements it)
//	router.go     Config, New, NewServer; chi routes, auth and panic middleware, 404/405
//	request.go    body limits, strict JSON decoding, sessions built from request properties
//	negotiate.go  Accept header (q-values) -> response media type
//	errors.go     generic_error / statement_error bodies; engine errors -> HTTP status
//	ksql.go       POST /ksql
//	query.go      POST /query, /query-stream, /close-query; the three stream writers; PRINT
//	inserts.go    POST /inserts-stream (full duplex: acks stream back while rows arrive)
//	info.go       /info, /healthcheck, /status, /clusterStatus, /is_valid_property
//	encode.go     SQL values -> JSON as ksqlDB's REST mapper prints them
//
// # Lifecycle of a query request
//
// The handler decodes the body, asks the Backend for a cursor, writes the header, then loops
// on Cursor.Next in the request's own goroutine, flushing after every row. A slow client
// therefore only slows its own cursor (backpressure), and when the client goes away the
// request context is cancelled, Next returns, and the deferred Cursor.Close stops the query.
//
// # HTTP/2
//
// /query-stream and /inserts-stream also work over cleartext HTTP/2 (prior knowledge). That is
// a property of the http.Server, not of the handler: build the listener with NewServer (or set
// Protocols() on your own server), which enables HTTP/1.1 and unencrypted HTTP/2 together.
package rest
