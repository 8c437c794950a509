package qtt

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/storage"
)

var (
	createSourceRE = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:SOURCE\s+)?(?:STREAM|TABLE)\b`)
	asSelectRE     = regexp.MustCompile(`(?is)\bAS\s+SELECT\b`)
	kafkaTopicRE   = regexp.MustCompile(`(?i)\bkafka_topic\s*=\s*'((?:[^']|'')*)'`)
	partitionsRE   = regexp.MustCompile(`(?i)\bpartitions\s*=\s*(\d+)`)
)

// sourceTopic extracts the topic of a CREATE STREAM/TABLE statement (not CREATE ... AS SELECT).
func sourceTopic(stmt string) (Topic, bool) {
	if !createSourceRE.MatchString(stmt) || asSelectRE.MatchString(stmt) {
		return Topic{}, false
	}
	m := kafkaTopicRE.FindStringSubmatch(stmt)
	if m == nil {
		return Topic{}, false
	}
	t := Topic{Name: strings.ReplaceAll(m[1], "''", "'")}
	if p := partitionsRE.FindStringSubmatch(stmt); p != nil {
		t.Partitions, _ = strconv.Atoi(p[1])
	}
	return t, true
}

// runQTT runs one query-validation-test case: statements, inputs, outputs, post-conditions.
func (r *Runner) runQTT(ctx context.Context, c *Case, dir string) Result {
	log, eng, err := r.startEngine(ctx, c, dir)
	if err != nil {
		return failResult(c, CatSetup, err.Error())
	}
	defer log.Close()
	defer eng.Close()

	sess := newSession(c)
	for i, stmt := range c.Statements {
		// ksqlDB's harness parses a case's statements as one script, one statement per line,
		// so positions in parse errors count lines from the first statement.
		if _, err := eng.Execute(ctx, sess, strings.Repeat("\n", i)+stmt); err != nil {
			if c.ExpectedException != nil {
				return checkException(c, err)
			}
			return failResult(c, CatStatement, fmt.Sprintf("statement %d failed: %s\n    %s", i+1, describeErr(err), oneLine(stmt)))
		}
	}
	if err := r.produce(ctx, eng, c); err != nil {
		if c.ExpectedException != nil {
			return checkException(c, err)
		}
		return failResult(c, CatRuntime, describeErr(err))
	}
	if c.ExpectedException != nil {
		e := c.ExpectedException
		msg := e.Message
		if e.CauseMessage != "" {
			msg += " / cause: " + e.CauseMessage
		}
		return failResult(c, CatNotThrown, fmt.Sprintf("expected %s %q, but every statement and record succeeded", shortClass(e.Type), msg))
	}
	if res, failed := checkOutputs(ctx, eng, c); failed {
		return res
	}
	if c.Post != nil {
		if err := checkPost(ctx, log, eng, c.Post); err != nil {
			return failResult(c, CatPost, err.Error())
		}
	}
	return passResult(c)
}

// checkOutputs compares every topic named in the outputs, in order, with exact counts.
func checkOutputs(ctx context.Context, eng Engine, c *Case) (Result, bool) {
	var topics []string
	byTopic := map[string][]Record{}
	for _, o := range c.Outputs {
		if _, ok := byTopic[o.Topic]; !ok {
			topics = append(topics, o.Topic)
		}
		byTopic[o.Topic] = append(byTopic[o.Topic], o)
	}
	for _, topic := range topics {
		actual, err := eng.ReadLogical(ctx, topic)
		if err != nil && !errors.Is(err, storage.ErrUnknownTopic) {
			return failResult(c, CatRuntime, fmt.Sprintf("read %s: %s", topic, describeErr(err))), true
		}
		if schema := schemaForTopic(eng, topic); schema != nil {
			for i := range actual {
				actual[i] = typeRecord(actual[i], schema)
			}
		}
		if msg := compareTopic(topic, byTopic[topic], actual, c.NoInputs); msg != "" {
			return failResult(c, CatOutput, msg), true
		}
	}
	return Result{}, false
}

// compareTopic compares expected and actual records of one topic and returns a readable
// diff, or "" when they match. A partitioned log orders records only within a partition, and
// ksqlDB's expectations come from a single-threaded driver: when the actual records span
// several partitions, they match if every partition's records appear in the expected list in
// their order, each expected record exactly once.
func compareTopic(topic string, exp []Record, act []engine.LogicalRecord, noInputs bool) string {
	if len(exp) == len(act) && spansPartitions(act) && interleaves(exp, act, noInputs) {
		return ""
	}
	return comparePairwise(topic, exp, act, noInputs)
}

func spansPartitions(act []engine.LogicalRecord) bool {
	for _, r := range act {
		if r.Partition != act[0].Partition {
			return true
		}
	}
	return false
}

// interleaves reports whether exp is an interleaving of act's per-partition sequences.
func interleaves(exp []Record, act []engine.LogicalRecord, noInputs bool) bool {
	var order []int32
	queues := map[int32][]engine.LogicalRecord{}
	for _, r := range act {
		if _, ok := queues[r.Partition]; !ok {
			order = append(order, r.Partition)
		}
		queues[r.Partition] = append(queues[r.Partition], r)
	}
	for _, e := range exp {
		matched := false
		for _, p := range order {
			q := queues[p]
			if len(q) > 0 && MatchRecord(e, q[0], noInputs) == nil {
				queues[p] = q[1:]
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// comparePairwise compares expected and actual records in order.
func comparePairwise(topic string, exp []Record, act []engine.LogicalRecord, noInputs bool) string {
	n := min(len(exp), len(act))
	for i := 0; i < n; i++ {
		if err := MatchRecord(exp[i], act[i], noInputs); err != nil {
			return fmt.Sprintf("%s[%d]: %v\n    expected: %s\n    actual:   %s%s", topic, i, err,
				RenderExpected(exp[i]), RenderActual(act[i]), countNote(len(exp), len(act)))
		}
	}
	switch {
	case len(exp) > len(act):
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s: expected %d records, got %d; first missing:\n    expected: %s", topic, len(exp), len(act), RenderExpected(exp[n]))
		return sb.String()
	case len(act) > len(exp):
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s: expected %d records, got %d; first extra:\n    actual:   %s", topic, len(exp), len(act), RenderActual(act[n]))
		return sb.String()
	}
	return ""
}

func countNote(e, a int) string {
	if e == a {
		return ""
	}
	return fmt.Sprintf("\n    (expected %d records, got %d)", e, a)
}

// checkPost verifies post.sources and post.topics.
func checkPost(ctx context.Context, log storage.Log, eng Engine, p *Post) error {
	for _, want := range p.Sources {
		got, ok := eng.Source(want.Name)
		if !ok || got == nil {
			return fmt.Errorf("post: source %s does not exist", want.Name)
		}
		if err := checkSource(want, got); err != nil {
			return fmt.Errorf("post: source %s: %w", want.Name, err)
		}
	}
	if p.Blacklist == "" && len(p.Topics) == 0 {
		return nil
	}
	topics, err := log.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("post: list topics: %w", err)
	}
	if p.Blacklist != "" {
		re, err := regexp.Compile(`^(?:` + p.Blacklist + `)$`)
		if err != nil {
			return fmt.Errorf("post: bad blacklist %q: %w", p.Blacklist, err)
		}
		for _, t := range topics {
			if re.MatchString(t.Name) {
				return fmt.Errorf("post: topic %s matches blacklist %q", t.Name, p.Blacklist)
			}
		}
	}
	for _, want := range p.Topics {
		// Internal topic names depend on query ids and step names; only user topics are checked.
		if strings.HasPrefix(want.Name, "_confluent-ksql-") {
			continue
		}
		var found *storage.TopicInfo
		for i := range topics {
			if topics[i].Name == want.Name {
				found = &topics[i]
			}
		}
		if found == nil {
			return fmt.Errorf("post: topic %s does not exist (topics: %s)", want.Name, topicNames(topics))
		}
		if want.Partitions > 0 && len(found.Partitions) != want.Partitions {
			return fmt.Errorf("post: topic %s: expected %d partitions, got %d", want.Name, want.Partitions, len(found.Partitions))
		}
	}
	return nil
}

func topicNames(ts []storage.TopicInfo) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

func checkSource(want PostSource, got *engine.SourceSummary) error {
	if want.Type != "" && !strings.EqualFold(want.Type, got.Kind) {
		return fmt.Errorf("expected type %s, got %s", want.Type, got.Kind)
	}
	if want.Schema != nil {
		actual := ""
		if got.Schema != nil {
			actual = got.Schema.String()
		}
		if NormalizeSchema(*want.Schema) != NormalizeSchema(actual) {
			return fmt.Errorf("expected schema %s, got %s", *want.Schema, actual)
		}
	}
	if kf := want.KeyFormat; kf != nil {
		if kf.Format != "" && !strings.EqualFold(kf.Format, got.KeyFormat) {
			return fmt.Errorf("expected key format %s, got %s", kf.Format, got.KeyFormat)
		}
		if !strings.EqualFold(kf.WindowType, got.WindowType) {
			return fmt.Errorf("expected window type %q, got %q", kf.WindowType, got.WindowType)
		}
		if kf.WindowSize != nil && *kf.WindowSize != got.WindowSize {
			return fmt.Errorf("expected window size %d, got %d", *kf.WindowSize, got.WindowSize)
		}
	}
	if want.ValueFormat != "" && !strings.EqualFold(want.ValueFormat, got.ValueFormat) {
		return fmt.Errorf("expected value format %s, got %s", want.ValueFormat, got.ValueFormat)
	}
	if want.KeyFeatures != nil && !sameFeatures(*want.KeyFeatures, got.KeyFeatures) {
		return fmt.Errorf("expected key features %v, got %v", *want.KeyFeatures, got.KeyFeatures)
	}
	if want.ValueFeatures != nil && !sameFeatures(*want.ValueFeatures, got.ValFeatures) {
		return fmt.Errorf("expected value features %v, got %v", *want.ValueFeatures, got.ValFeatures)
	}
	if want.IsSource != nil && *want.IsSource != got.IsSource {
		return fmt.Errorf("expected isSource %v, got %v", *want.IsSource, got.IsSource)
	}
	return nil
}

func sameFeatures(a, b []string) bool {
	norm := func(l []string) string {
		c := make([]string, len(l))
		for i, s := range l {
			c[i] = strings.ToUpper(s)
		}
		sort.Strings(c)
		return strings.Join(c, ",")
	}
	return norm(a) == norm(b)
}

// Java exception classes used in expectedException, and the engine error kinds each accepts.
// ksqlDB's hierarchy: ParseFailedException extends KsqlStatementException extends
// KsqlException, so a parse error satisfies all three; StreamsException is Kafka Streams'
// wrapper for failures while processing records.
var exceptionKinds = map[string][]engine.ErrorKind{
	"ParseFailedException":   {engine.ParseError},
	"KsqlStatementException": {engine.StatementError, engine.ParseError},
	"KsqlException":          {engine.StatementError, engine.ParseError},
	"StreamsException":       {engine.RuntimeError},
}

// streamsWrapperMessage is the message Kafka Streams puts on the exception wrapping a
// processing failure; Sluice has no such wrapper, so it is implied by a runtime error and only
// the cause message is matched.
const streamsWrapperMessage = "Exception caught in process"

// checkException decides a negative QTT case given the error that occurred.
func checkException(c *Case, err error) Result {
	e := c.ExpectedException
	class := shortClass(e.Type)
	kinds, known := exceptionKinds[class]
	var ee *engine.Error
	if !errors.As(err, &ee) {
		return failResult(c, CatExceptionType, fmt.Sprintf("expected %s %q, got a non-engine error: %v", class, e.Message, err))
	}
	if !known {
		return failResult(c, CatExceptionType, fmt.Sprintf("expected unsupported exception type %s, got %s: %s", e.Type, kindName(ee.Kind), ee.Msg))
	}
	kindOK := false
	for _, k := range kinds {
		kindOK = kindOK || ee.Kind == k
	}
	var msgs []string
	if e.Message != "" && !(class == "StreamsException" && e.Message == streamsWrapperMessage) {
		msgs = append(msgs, e.Message)
	}
	if e.CauseMessage != "" {
		msgs = append(msgs, e.CauseMessage)
	}
	msgOK := true
	for _, m := range msgs {
		msgOK = msgOK && strings.Contains(ee.Msg, m)
	}
	switch {
	case kindOK && msgOK:
		return passResult(c)
	case kindOK:
		return failResult(c, CatExceptionMsg, fmt.Sprintf("%s as expected, but message mismatch:\n    expected substring: %q\n    actual message:     %q",
			class, strings.Join(msgs, `" and "`), ee.Msg))
	default:
		return failResult(c, CatExceptionType, fmt.Sprintf("expected %s (%s) %q, got %s: %q",
			class, kindNames(kinds), strings.Join(msgs, " / "), kindName(ee.Kind), ee.Msg))
	}
}

// shortClass strips the package from a Java class name.
func shortClass(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func kindName(k engine.ErrorKind) string {
	switch k {
	case engine.StatementError:
		return "StatementError"
	case engine.ParseError:
		return "ParseError"
	case engine.RuntimeError:
		return "RuntimeError"
	case engine.ServerError:
		return "ServerError"
	}
	return fmt.Sprintf("ErrorKind(%d)", k)
}

func kindNames(ks []engine.ErrorKind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = kindName(k)
	}
	return strings.Join(names, "|")
}

// describeErr prints an error with its engine kind when it has one.
func describeErr(err error) string {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return fmt.Sprintf("%s: %s", kindName(ee.Kind), err.Error())
	}
	return err.Error()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
