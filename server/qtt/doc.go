// Package qtt runs ksqlDB's query-validation tests (QTT) and REST query-validation tests (RQTT)
// against Sluice: it is the conformance harness behind `sluice test-qtt` and
// testdata/qtt/passing.txt. The corpus itself stays outside the repository (see
// ../shared/qtt/FORMAT.md, the specification this package follows section by section).
//
// It owns the corpus file model, the comparison rules and the reporting. It does not know how
// statements run or how formats encode: the engine (exec/engine) executes statements, encodes
// logical input records with the formats of the sources on a topic (ProduceLogical) and decodes
// topics back to logical values (ReadLogical); server/rest serves RQTT requests.
//
// # Layers
//
//	load.go      comment-tolerant loading (// and /* */ outside strings, unknown keys ignored,
//	             numbers kept exact) and the format × config expansion into named Cases (§2)
//	skip.go      the only reasons a case may be skipped: Schema Registry formats, test-only
//	             UDFs, enabled:false, testPullWithProtoFormat without --proto
//	compare.go   ExpectedRecordComparator's rules (§6): decimal scale, double tolerance,
//	             exact-then-upper-case field lookup, windows, timestamps, headers, tombstones
//	typed.go     types JSON-like actual values by the sink's schema, as Java's deserialiser
//	             does (json.Number -> DECIMAL at the column's scale, DOUBLE, BIGINT)
//	schema.go    structural comparison of post.sources schema strings (§5)
//	run.go       Runner: worker pool, per-case timeout, fresh log + deterministic engine per case
//	qttcase.go   one QTT case: statements, inputs, outputs, expected exceptions, post (§4, §7)
//	rqttcase.go  one RQTT case over a loopback HTTP server: /ksql, /query, responses (§8)
//	report.go    text report, JSON results, passing list, guard, docs/conformance.md table
//	main.go      the `sluice test-qtt` command
//	wiring.go    NewRunner: the embedded log and Badger state (a temp directory per case, as
//	             the server keeps them; --state=mem for the engine's in-memory stores) and
//	             server/rest
//	memlog.go    an in-memory storage.Log (--log=mem, and the zero Runner's default)
//
// # Lifecycle of a QTT case
//
// A fresh log gets the topics the Java harness creates up front (explicit topics, topics of
// CREATE STREAM/TABLE statements, input topics); a deterministic engine opens on it with the
// case's properties; every statement runs in order; the inputs are produced in file order,
// with a Quiesce after each record (FeedPerRecord, the default) or once after all of them
// (FeedAll, which with Quiesce's statement-order driving is the Java harness's "one query at a
// time" order); then every topic named in the outputs is read back and compared record by
// record with exact counts, and the post-conditions are checked. A negative case passes when a
// statement or the processing of records fails with the expected kind and message.
//
// # Java exception types
//
// ParseFailedException accepts engine.ParseError; KsqlStatementException and KsqlException
// accept StatementError or ParseError (ksqlDB's ParseFailedException is a
// KsqlStatementException, which is a KsqlException); StreamsException accepts RuntimeError, and
// its wrapper message "Exception caught in process" is implied: only causeMessage is matched.
// A right kind with a wrong message is reported as its own category.
package qtt
