package plan

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func sampleQuery() *Query {
	src := &Source{Name: "ORDERS", Kind: "STREAM", Topic: "orders", Partitions: 2,
		Columns: []Column{{Name: "ID", Type: "STRING", Namespace: "KEY"}, {Name: "AMOUNT", Type: "DOUBLE", Namespace: "VALUE"}},
		Key:     Format{Name: "KAFKA"}, Value: Format{Name: "DELIMITED", Delimiter: "|"}}
	root := &SinkStep{Kind: "TABLE", Schema: []Column{{Name: "ID", Type: "STRING", Namespace: "KEY"}, {Name: "N", Type: "BIGINT", Namespace: "VALUE"}},
		Input: &SelectStep{Items: []SelectItem{{Name: "ID", Expr: "ID"}, {Name: "N", Expr: "COUNT(*)"}}, KeyOrder: []int{0},
			Input: &AggregateStep{GroupBy: []string{"ID"}, Aggregates: []string{"COUNT(*)"}, Having: "(COUNT(*) > 1)",
				Window: &Window{Type: "HOPPING", SizeMs: 60000, AdvanceMs: 10000, RetentionMs: -1, GraceMs: 0},
				Input:  &FilterStep{Condition: "(AMOUNT < 10)", Input: &SourceStep{Alias: "O", Source: src}}}}}
	return &Query{Version: Version, ID: "CTAS_T_1", Kind: "CTAS", Sink: src, Config: map[string]string{"auto.offset.reset": "earliest"}, Root: root}
}

func TestRoundTrip(t *testing.T) {
	q := sampleQuery()
	b, err := Encode(q)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"(AMOUNT < 10)"`) {
		t.Errorf("SQL in the plan should not be HTML-escaped:\n%s", b)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q, back) {
		t.Fatalf("round trip changed the plan:\n%#v\n%#v", q, back)
	}
	again, _ := Encode(back)
	if string(again) != string(b) {
		t.Fatalf("encoding is not stable:\n%s\n%s", b, again)
	}
}

func TestJoinRoundTrip(t *testing.T) {
	s := func(n string) *SourceStep {
		return &SourceStep{Alias: n, Source: &Source{Name: n, Kind: "STREAM", Topic: n, Partitions: 1, Columns: []Column{{Name: "K", Type: "INT", Namespace: "KEY"}}}}
	}
	q := &Query{Version: Version, ID: "CSAS_J_2", Kind: "CSAS", Sink: s("J").Source, Root: &SinkStep{Kind: "STREAM",
		Input: &SelectStep{Items: []SelectItem{{Name: "K", Expr: "A.K", JoinKey: true}}, KeyOrder: []int{0},
			Input: &JoinStep{Sources: []*SourceStep{s("A"), s("B")}, KeySlot: 2, KeyType: "INT",
				Layout:  []LayoutColumn{{Qualifier: "A", Name: "K", Type: "INT"}, {Qualifier: "B", Name: "K", Type: "INT"}, {Qualifier: "\x00JOIN", Name: "\x00KEY", Type: "INT"}},
				Clauses: []JoinClause{{Type: "INNER", Kind: "SS", Within: &Within{BeforeMs: 10, AfterMs: 10, GraceMs: -1}, LeftKey: "A.K", RightKey: "B.K", Right: 1, KeyType: "INT", LeftSlots: []int{0}, RightSlots: []int{1}}}}}}}
	b, err := Encode(q)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q, back) {
		t.Fatalf("round trip changed the plan:\n%#v\n%#v", q, back)
	}
	if got := Explain(back.Root, "J"); !strings.Contains(got, "> joinV1 [INNER SS A.K = B.K]") || strings.Count(got, "> sourceV1") != 2 {
		t.Fatalf("explain:\n%s", got)
	}
}

func TestDecodeRejectsUnknownStepsAndVersions(t *testing.T) {
	b, _ := Encode(sampleQuery())
	_, err := Decode([]byte(strings.Replace(string(b), `"filterV1"`, `"filterV2"`, 1)))
	if !errors.Is(err, ErrUnknownStep) || !strings.Contains(err.Error(), `"filterV2"`) {
		t.Fatalf("unknown step: err = %v", err)
	}
	_, err = Decode([]byte(strings.Replace(string(b), `"version": 1`, `"version": 99`, 1)))
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("newer version: err = %v", err)
	}
	if _, err := Decode([]byte(`{"version":1,"queryId":"X","kind":"CSAS","sink":null,"plan":{"@type":"selectV1","items":[]}}`)); err == nil {
		t.Fatal("a select without its input must not decode")
	}
}

func TestExplain(t *testing.T) {
	got := Explain(sampleQuery().Root, "T")
	want := `  > sinkV1 TABLE T [ID STRING KEY, N BIGINT]
    > selectV1 [ID, N] key=[ID]
      > aggregateV1 group=[ID] aggregates=[COUNT(*)] window=HOPPING(size=60000ms, advance=10000ms, grace=0ms) having=[(COUNT(*) > 1)]
        > filterV1 [(AMOUNT < 10)]
          > sourceV1 STREAM ORDERS AS O [topic=orders, key=KAFKA, value=DELIMITED]
`
	if got != want {
		t.Fatalf("Explain:\n%s\nwant:\n%s", got, want)
	}
}

// FuzzDecode: a damaged command log entry is an error, never a panic.
func FuzzDecode(f *testing.F) {
	b, _ := Encode(sampleQuery())
	f.Add(b)
	f.Add([]byte(`{"version":1,"plan":{"@type":"sinkV1","input":{"@type":"selectV1","input":{"@type":"joinV1","sources":[null]}}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		q, err := Decode(in)
		if err == nil {
			Explain(q.Root, "X")
		}
	})
}
