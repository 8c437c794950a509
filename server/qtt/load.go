package qtt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Case is one executable variant of a test: the `format` × `config` matrix of the file's test
// has already been expanded, {FORMAT} substituted in the statements and {CONFIG} in the
// properties.
type Case struct {
	Name  string // "<file-stem> - <name>[ - <FORMAT>][ - <prop>=<config>]"
	File  string // file stem, e.g. "joins"
	Path  string // the file the case came from
	Index int    // position in the file's expansion order
	REST  bool   // an RQTT case (rest-query-validation-tests)
	Area  string // feature area, see AreaOf

	Statements []string
	Inputs     []Record
	Outputs    []Record
	// NoInputs is true when the test has no inputs at all: an expected timestamp of 0 then
	// matches anything (the data came from INSERT INTO ... VALUES).
	NoInputs   bool
	Topics     []Topic
	Properties map[string]string
	Format     string // the format variant, "" when the test has no format matrix
	Enabled    bool

	ExpectedException *ExpectedException
	Post              *Post

	// RQTT only.
	Responses               []Response
	ExpectedError           *ExpectedError
	WaitForActivePushQuery  bool
	VerifyOrder             bool
	TestPullWithProtoFormat bool
}

// Record is one input or expected output record in logical (format-independent) form. Numbers
// are json.Number, objects map[string]any, arrays []any.
type Record struct {
	Topic        string
	Key          any
	Value        any // nil is a tombstone
	Timestamp    int64
	HasTimestamp bool
	Window       *Window
	Headers      []Header
	HasHeaders   bool
}

// Window is a record's window bounds; Type is "time" or "session".
type Window struct {
	Start, End int64
	Type       string
}

// Header is one record header; Value nil is a null header value.
type Header struct {
	Key   string
	Value []byte
}

// Topic is an explicit topic definition of a test (`topics`).
type Topic struct {
	Name       string
	Partitions int // 0 when not given
	// Registered is true when the test registers a key or value schema for the topic in the
	// (mock) Schema Registry.
	Registered  bool
	KeyFormat   string
	ValueFormat string
}

// ExpectedException is a QTT negative test's expectation (Java exception class names).
type ExpectedException struct {
	Type         string `json:"type"`
	Message      string `json:"message"`
	Cause        string `json:"cause"`
	CauseMessage string `json:"causeMessage"`
}

// ExpectedError is an RQTT negative test's expectation.
type ExpectedError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// Response is one expected RQTT response: exactly one of Admin, Query, QueryProto is set.
type Response struct {
	Admin      map[string]any
	Query      []any
	QueryProto []any
	IsQuery    bool
	IsProto    bool
}

// Post holds a case's post-conditions.
type Post struct {
	Sources   []PostSource
	Blacklist string
	Topics    []PostTopic
}

// PostSource is an expected stream or table. Nil pointers and empty strings mean "not checked".
type PostSource struct {
	Name          string
	Type          string
	Schema        *string
	KeyFormat     *PostKeyFormat
	ValueFormat   string
	KeyFeatures   *[]string
	ValueFeatures *[]string
	IsSource      *bool
}

// PostKeyFormat is the expected key format of a source. WindowType "" means un-windowed.
type PostKeyFormat struct {
	Format     string
	WindowType string
	WindowSize *int64
}

// PostTopic is an expected topic (only name and partition count are checked).
type PostTopic struct {
	Name       string
	Partitions int
}

// StripComments removes // line comments and /* */ block comments from JSON text, leaving
// string literals (which may contain "//", e.g. URLs) untouched. Comment bytes become spaces
// and newlines are kept, so decoder offsets still point at the right line.
func StripComments(src []byte) []byte {
	out := make([]byte, len(src))
	copy(out, src)
	inString := false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inString {
			switch c {
			case '\\':
				i++ // skip the escaped byte
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			out[i], out[i+1] = ' ', ' '
			i += 2
			for ; i < len(out); i++ {
				if out[i] == '*' && i+1 < len(out) && out[i+1] == '/' {
					out[i], out[i+1] = ' ', ' '
					i++
					break
				}
				if out[i] != '\n' {
					out[i] = ' '
				}
			}
		}
	}
	return out
}

// The raw shapes of the files. encoding/json ignores unknown keys, which is what the Java
// harness's lenient Jackson reader does too.
type rawFile struct {
	Tests []rawTest `json:"tests"`
}

type rawTest struct {
	Name                    string             `json:"name"`
	Statements              []string           `json:"statements"`
	Inputs                  []map[string]any   `json:"inputs"`
	Outputs                 []map[string]any   `json:"outputs"`
	Topics                  []map[string]any   `json:"topics"`
	Format                  []string           `json:"format"`
	Config                  []string           `json:"config"`
	Properties              map[string]any     `json:"properties"`
	ExpectedException       *ExpectedException `json:"expectedException"`
	ExpectedError           *ExpectedError     `json:"expectedError"`
	Post                    map[string]any     `json:"post"`
	Enabled                 *bool              `json:"enabled"`
	Responses               []map[string]any   `json:"responses"`
	InputConditions         map[string]any     `json:"inputConditions"`
	OutputConditions        map[string]any     `json:"outputConditions"`
	TestPullWithProtoFormat bool               `json:"testPullWithProtoFormat"`
}

// LoadFile reads one QTT or RQTT file and returns its expanded cases in file order. A file is
// RQTT when it lives in a directory named rest-query-validation-tests or when one of its tests
// has `responses` or `expectedError`.
func LoadFile(path string) ([]*Case, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(StripComments(src)))
	dec.UseNumber()
	var f rawFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	rest := filepath.Base(filepath.Dir(path)) == "rest-query-validation-tests"
	for _, t := range f.Tests {
		if t.Responses != nil || t.ExpectedError != nil {
			rest = true
		}
	}
	var out []*Case
	for ti, t := range f.Tests {
		cs, err := expand(stem, path, rest, &t)
		if err != nil {
			return nil, fmt.Errorf("%s: test %d (%q): %w", path, ti, t.Name, err)
		}
		for _, c := range cs {
			c.Index = len(out)
			out = append(out, c)
		}
	}
	return out, nil
}

// LoadPaths loads every *.json file under the given files or directories (recursively), in
// lexical order. Files that fail to load are reported in errs; the others still load.
func LoadPaths(paths ...string) (cases []*Case, errs []error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	sort.Strings(files)
	for _, f := range files {
		cs, err := LoadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cases = append(cases, cs...)
	}
	return cases, errs
}

// expand turns one test into its format × config variants.
func expand(stem, path string, rest bool, t *rawTest) ([]*Case, error) {
	if t.Name == "" {
		return nil, fmt.Errorf("test has no name")
	}
	if len(t.Statements) == 0 {
		return nil, fmt.Errorf("test has no statements")
	}
	base, err := buildCase(t)
	if err != nil {
		return nil, err
	}
	base.File, base.Path, base.REST = stem, path, rest
	base.Area = AreaOf(stem, rest)

	formats := t.Format
	if len(formats) == 0 {
		formats = []string{""}
	}
	configs := t.Config
	configProp := ""
	if len(configs) == 0 {
		configs = []string{""}
	} else {
		for _, k := range sortedKeys(base.Properties) {
			if base.Properties[k] == "{CONFIG}" {
				configProp = k
				break
			}
		}
	}
	var out []*Case
	for _, f := range formats {
		for _, cfg := range configs {
			c := *base
			c.Name = stem + " - " + t.Name
			c.Format = f
			if f != "" {
				c.Name += " - " + f
				c.Statements = make([]string, len(base.Statements))
				for i, s := range base.Statements {
					c.Statements[i] = strings.ReplaceAll(s, "{FORMAT}", f)
				}
			}
			if len(t.Config) > 0 {
				c.Name += " - " + configProp + "=" + cfg
				c.Properties = make(map[string]string, len(base.Properties))
				for k, v := range base.Properties {
					if v == "{CONFIG}" {
						v = cfg
					}
					c.Properties[k] = v
				}
			}
			out = append(out, &c)
		}
	}
	return out, nil
}

func buildCase(t *rawTest) (*Case, error) {
	c := &Case{
		Statements:              t.Statements,
		ExpectedException:       t.ExpectedException,
		ExpectedError:           t.ExpectedError,
		Enabled:                 t.Enabled == nil || *t.Enabled,
		TestPullWithProtoFormat: t.TestPullWithProtoFormat,
		NoInputs:                len(t.Inputs) == 0,
		Properties:              map[string]string{},
	}
	for k, v := range t.Properties {
		c.Properties[k] = scalarText(v)
	}
	var err error
	if c.Inputs, err = buildRecords(t.Inputs, "inputs"); err != nil {
		return nil, err
	}
	if c.Outputs, err = buildRecords(t.Outputs, "outputs"); err != nil {
		return nil, err
	}
	for _, raw := range t.Topics {
		tp := Topic{Name: scalarText(raw["name"])}
		if n, ok := toInt64(raw["partitions"]); ok {
			tp.Partitions = int(n)
		}
		tp.KeyFormat = formatName(raw["keyFormat"])
		tp.ValueFormat = formatName(raw["valueFormat"])
		for _, k := range []string{"keySchema", "valueSchema", "keySchemaReferences", "valueSchemaReferences"} {
			if raw[k] != nil {
				tp.Registered = true
			}
		}
		c.Topics = append(c.Topics, tp)
	}
	if t.Post != nil {
		if c.Post, err = buildPost(t.Post); err != nil {
			return nil, err
		}
	}
	for i, r := range t.Responses {
		var resp Response
		switch {
		case r["admin"] != nil:
			m, _ := r["admin"].(map[string]any)
			resp.Admin = m
		case r["query"] != nil:
			resp.Query, _ = r["query"].([]any)
			resp.IsQuery = true
		case r["queryProto"] != nil:
			resp.QueryProto, _ = r["queryProto"].([]any)
			resp.IsQuery, resp.IsProto = true, true
		default:
			return nil, fmt.Errorf("responses[%d]: unknown response kind", i)
		}
		c.Responses = append(c.Responses, resp)
	}
	if v, ok := t.InputConditions["waitForActivePushQuery"].(bool); ok {
		c.WaitForActivePushQuery = v
	}
	if v, ok := t.OutputConditions["verifyOrder"].(bool); ok {
		c.VerifyOrder = v
	}
	return c, nil
}

func buildRecords(raws []map[string]any, what string) ([]Record, error) {
	out := make([]Record, 0, len(raws))
	for i, raw := range raws {
		r := Record{Topic: scalarText(raw["topic"]), Key: raw["key"], Value: raw["value"]}
		if r.Topic == "" {
			return nil, fmt.Errorf("%s[%d]: record has no topic", what, i)
		}
		if ts, present := raw["timestamp"]; present && ts != nil {
			n, ok := toInt64(ts)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: bad timestamp %v", what, i, ts)
			}
			r.Timestamp, r.HasTimestamp = n, true
		}
		if w, ok := raw["window"].(map[string]any); ok {
			start, ok1 := toInt64(w["start"])
			end, ok2 := toInt64(w["end"])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s[%d]: bad window %v", what, i, w)
			}
			r.Window = &Window{Start: start, End: end, Type: strings.ToLower(scalarText(w["type"]))}
		}
		if hs, present := raw["headers"]; present && hs != nil {
			list, ok := hs.([]any)
			if !ok {
				return nil, fmt.Errorf("%s[%d]: headers must be a list", what, i)
			}
			r.HasHeaders = true
			r.Headers = []Header{}
			for _, h := range list {
				hm, _ := h.(map[string]any)
				hdr := Header{Key: scalarText(lookupFold(hm, "KEY"))}
				if v := lookupFold(hm, "VALUE"); v != nil {
					b, err := base64.StdEncoding.DecodeString(scalarText(v))
					if err != nil {
						return nil, fmt.Errorf("%s[%d]: header %q: %w", what, i, hdr.Key, err)
					}
					hdr.Value = b
				}
				r.Headers = append(r.Headers, hdr)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func buildPost(raw map[string]any) (*Post, error) {
	p := &Post{}
	srcs, _ := raw["sources"].([]any)
	for i, s := range srcs {
		m, ok := s.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("post.sources[%d]: not an object", i)
		}
		ps := PostSource{Name: scalarText(m["name"]), Type: scalarText(m["type"])}
		if v, ok := m["schema"].(string); ok {
			ps.Schema = &v
		}
		switch kf := m["keyFormat"].(type) {
		case string:
			ps.KeyFormat = &PostKeyFormat{Format: kf}
		case map[string]any:
			pk := &PostKeyFormat{Format: scalarText(kf["format"]), WindowType: scalarText(kf["windowType"])}
			if n, ok := toInt64(kf["windowSize"]); ok {
				pk.WindowSize = &n
			}
			ps.KeyFormat = pk
		}
		ps.ValueFormat = formatName(m["valueFormat"])
		ps.KeyFeatures = stringList(m, "keyFeatures")
		ps.ValueFeatures = stringList(m, "valueFeatures")
		if b, ok := m["isSource"].(bool); ok {
			ps.IsSource = &b
		}
		p.Sources = append(p.Sources, ps)
	}
	if tm, ok := raw["topics"].(map[string]any); ok {
		p.Blacklist = scalarText(tm["blacklist"])
		list, _ := tm["topics"].([]any)
		for _, t := range list {
			m, _ := t.(map[string]any)
			pt := PostTopic{Name: scalarText(m["name"])}
			if n, ok := toInt64(m["partitions"]); ok {
				pt.Partitions = int(n)
			}
			p.Topics = append(p.Topics, pt)
		}
	}
	return p, nil
}

// formatName reads a format given as "JSON" or {"format": "JSON", ...}.
func formatName(v any) string {
	switch f := v.(type) {
	case string:
		return f
	case map[string]any:
		return scalarText(f["format"])
	}
	return ""
}

func stringList(m map[string]any, key string) *[]string {
	l, ok := m[key].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, scalarText(v))
	}
	return &out
}

// lookupFold finds a key exactly, then case-insensitively.
func lookupFold(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// scalarText renders a JSON scalar as a property or name string.
func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		if f, err := x.Float64(); err == nil && f == float64(int64(f)) {
			return int64(f), true
		}
	case string:
		return toInt64(json.Number(x))
	case float64:
		return int64(x), x == float64(int64(x))
	case int:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
