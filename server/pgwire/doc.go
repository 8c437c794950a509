// Package pgwire serves Sluice over the PostgreSQL v3 wire protocol, so that psql, pgx,
// JDBC, psycopg2 and node-postgres can run ksqlDB statements, pull queries and push queries
// (SELECT ... EMIT CHANGES). It owns connections, authentication, protocol framing, value
// encoding and the PostgreSQL-isms clients expect (transactions, cursors, COPY, SET/SHOW,
// psql's catalog queries). It knows nothing about planning or running queries: that is the
// Backend's job (*engine.Engine in production).
//
// # Layers
//
//	server.go     accept loop, the startup phase (SSLRequest/GSSEncRequest negotiation,
//	              CancelRequest, StartupMessage), the pid -> session registry, Close
//	conn.go       one session: authentication (trust or SCRAM-SHA-256), the reader
//	              goroutine, buffered writes, message dispatch, statement cancellation
//	simple.go     the simple protocol (Query): statement splitting, one CommandComplete each
//	extended.go   Parse/Bind/Describe/Execute/Close/Sync/Flush, named statements and portals
//	exec.go       statements and portals: running a statement up to the point where rows
//	              flow, then streaming rows with MaxRows suspension and per-row flushing
//	session.go    statements answered without the engine: BEGIN/COMMIT/ROLLBACK, SET/SHOW/
//	              RESET, DISCARD, DEALLOCATE, FROM-less SELECTs (version(), SELECT 1)
//	cursor.go     DECLARE/FETCH/CLOSE and COPY (query) TO STDOUT
//	catalog.go    psql's \l, \d, \dt, \dv, \d NAME, \dn, \du answered by fingerprint
//	params.go     $n parameters: type inference, decoding, substitution as literals
//	encode.go     SQL types -> OIDs; values -> text and binary formats; COPY encodings
//	lexer.go      the little SQL lexing the layer needs (strings, comments, $n, ';')
//	errors.go     SQLSTATE codes and error -> ErrorResponse with a character Position
//
// The Backend interface is deliberately narrow: Execute for statements, Query for queries,
// Prepare for describing without running, Sources for the catalog emulation. Optional
// extensions (RowsQuerier, StatementSplitter) let backends other than the engine stream rows.
//
// # Connection lifecycle
//
//	accept ─► startup packets read unbuffered ─► SSLRequest? 'S'+TLS / 'N' ─► StartupMessage
//	        └► CancelRequest: look up pid, compare secret in constant time, cancel, close
//	─► trust, or SCRAM-SHA-256 (FATAL 28P01 on failure) ─► ParameterStatus set
//	   (server_version 13.0.0, UTF8, ISO dates, standard_conforming_strings=on, ...)
//	─► BackendKeyData (random pid, crypto-random secret) ─► ReadyForQuery
//	─► message loop until Terminate, EOF, a protocol error or Server.Close (FATAL 57P01)
//
// Startup packets are read with io.ReadFull straight from the socket, never through a
// buffering reader, so bytes a client pipelines after an SSLRequest cannot end up being
// treated as if they came over TLS. Message sizes are checked before allocation (1 MiB
// before authentication, Config.MaxMessageSize after): pgproto3/v2 would otherwise allocate
// whatever length a client claims.
//
// # Why a reader goroutine
//
// A push query runs until LIMIT, a cancel, or the client going away. pgx cancels a query by
// closing its socket, and a push query with no new rows never writes, so a write error
// cannot be relied on to notice. Each connection therefore has a reader goroutine that owns
// Receive, deep-copies every message (pgproto3 reuses its message structs) and queues it.
// On EOF, a read error or Terminate it closes conn.gone; streaming loops select on rows,
// the statement's cancel context (CancelRequest) and gone. Pipelined messages (drivers
// send Sync right behind Execute) wait in the queue while a statement streams; they are
// not processed out of order. The connection goroutine owns all writes and all session
// state, so neither needs a lock; only the running statement's cancel func is shared with
// CancelRequest handlers, under conn.mu.
//
// Push queries get one more goroutine, a pump that calls Rows.Next and feeds a small
// channel, so a FETCH can wait for "n rows or a timeout" without tearing the query down.
// Pull queries are read directly.
//
// # Push queries and clients that buffer
//
// A push query is an unbounded portal: rows are sent and flushed as they arrive, and
// CommandComplete comes only at LIMIT or the end of the stream. Execute honours MaxRows
// with PortalSuspended (node pg-cursor, JDBC fetch size), and portals survive Sync inside
// an explicit transaction. psql prints nothing until a result completes, so in the simple
// protocol a push query is preceded by a NOTICE with a hint; the ways to watch rows live
// from psql are:
//
//	\set FETCH_COUNT 1       psql ≤16 turns this into BEGIN; DECLARE _psql_cursor ...;
//	                         FETCH FORWARD 1 ... — FETCH blocks until n rows or end of
//	                         stream, exactly as PostgreSQL's would
//	COPY (...) TO STDOUT     one CopyData per row (psql's stdout is block-buffered into
//	                         pipes, so a TTY shows rows live but a pipe may not)
//	... LIMIT n              completes after n rows
//
// Cancellation (psql Ctrl-C, JDBC Statement.cancel, pgx CancelRequestContextWatcherHandler)
// arrives as a CancelRequest on a fresh connection; the statement ends with ErrorResponse
// 57014 "canceling statement due to user request" and the session stays usable.
//
// # Parameters
//
// The engine has no placeholders. Parse infers the type of each $n the client left
// unspecified (a cast, a comparison with a column of a named source, LIMIT, INSERT ...
// VALUES position; otherwise text) and reports it in ParameterDescription so drivers encode
// accordingly. Bind decodes each value (text or binary) by that type and substitutes it into
// the statement text as a literal: numbers are parsed and re-formatted, everything else is
// quoted with ” escaping. Raw client text is never spliced into SQL.
//
// # Catalog emulation
//
// psql's backslash commands query pg_catalog, which Sluice does not have. catalog.go
// recognises the queries psql 13-16 send (by a few fragments of whitespace-normalised text)
// and synthesizes answers. Rows are built from the query's own select list, because psql
// reads the \d NAME detail results by position; streams and tables are reported as views so
// psql asks only the three queries we answer. Other catalog queries get an empty result with
// the select list's column names. Native SHOW STREAMS, SHOW TABLES and DESCRIBE work in
// every client.
//
// # Compatibility notes
//
//   - server_version is 13.0.0: every psql from 13 up connects without a warning and uses
//     one known set of catalog queries.
//   - Types: BOOLEAN 16, INT 23, BIGINT 20, DOUBLE 701, DECIMAL 1700 (binary base-10000),
//     STRING 25, BYTES 17, DATE 1082, TIME 1083, TIMESTAMP 1114, ARRAY/MAP/STRUCT json 114.
//   - Transactions are accepted and tracked ('I', 'T', 'E') but do not group writes.
//   - Not supported: COPY FROM, binary COPY, the function-call protocol, protocol 3.2,
//     SCROLL cursors, SCRAM channel binding.
//
// # Debugging
//
// Config.Logf receives per-connection diagnostics. The tests in this package drive the
// server with pgx, the real psql binary and raw pgproto3 frontends; pgwiretest starts a
// server for tests in other packages.
package pgwire
