package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrUnknownStep is returned (wrapped) when a plan holds a step type this build cannot
// build, typically one written by a newer release.
var ErrUnknownStep = errors.New("unknown plan step")

// ErrVersion is returned (wrapped) for a Query document of a newer format version.
var ErrVersion = errors.New("unsupported plan version")

// MarshalJSON writes the query with its step tree under "plan"; each step is an object whose
// "@type" comes first and whose input, if any, is nested under "input".
func (q *Query) MarshalJSON() ([]byte, error) {
	type envelope Query
	root, err := marshalStep(q.Root)
	if err != nil {
		return nil, err
	}
	return Marshal(struct {
		*envelope
		Plan json.RawMessage `json:"plan"`
	}{(*envelope)(q), root})
}

// UnmarshalJSON reads a document written by MarshalJSON.
func (q *Query) UnmarshalJSON(b []byte) error {
	type envelope Query
	var doc struct {
		*envelope
		Plan json.RawMessage `json:"plan"`
	}
	doc.envelope = (*envelope)(q)
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	if q.Version < 1 || q.Version > Version {
		return fmt.Errorf("%w %d (this build reads up to %d)", ErrVersion, q.Version, Version)
	}
	root, err := unmarshalStep(doc.Plan)
	if err != nil {
		return err
	}
	q.Root = root
	return nil
}

func marshalStep(s Step) (json.RawMessage, error) {
	if s == nil {
		return nil, errors.New("plan: nil step")
	}
	body, err := Marshal(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"@type":`)
	t, _ := Marshal(s.StepType())
	b.Write(t)
	if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
		b.WriteByte(',')
		b.Write(inner)
	}
	if in := singleInput(s); in != nil {
		child, err := marshalStep(in)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"input":`)
		b.Write(child)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// singleInput is the nested input of a one-input step; sources and joins hold their inputs
// as ordinary fields.
func singleInput(s Step) Step {
	switch s.(type) {
	case *SourceStep, *JoinStep:
		return nil
	}
	return s.Inputs()[0]
}

func unmarshalStep(b json.RawMessage) (Step, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, errors.New("plan: missing step")
	}
	var head struct {
		Type  string          `json:"@type"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, err
	}
	var s Step
	switch head.Type {
	case TypeSource:
		s = &SourceStep{}
	case TypeJoin:
		s = &JoinStep{}
	case TypeFilter:
		s = &FilterStep{}
	case TypePartitionBy:
		s = &PartitionByStep{}
	case TypeAggregate:
		s = &AggregateStep{}
	case TypeSelect:
		s = &SelectStep{}
	case TypeSink:
		s = &SinkStep{}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownStep, head.Type)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("plan: step %s: %w", head.Type, err)
	}
	switch st := s.(type) {
	case *SourceStep:
		if st.Source == nil {
			return nil, fmt.Errorf("plan: %s without its source", head.Type)
		}
		return s, nil
	case *JoinStep:
		if len(st.Sources) < 2 {
			return nil, fmt.Errorf("plan: %s joins %d sources", head.Type, len(st.Sources))
		}
		for _, src := range st.Sources {
			if src == nil || src.Source == nil {
				return nil, fmt.Errorf("plan: %s with a missing source", head.Type)
			}
		}
		return s, nil
	}
	in, err := unmarshalStep(head.Input)
	if err != nil {
		return nil, fmt.Errorf("plan: input of %s: %w", head.Type, err)
	}
	switch x := s.(type) {
	case *FilterStep:
		x.Input = in
	case *PartitionByStep:
		x.Input = in
	case *AggregateStep:
		x.Input = in
	case *SelectStep:
		x.Input = in
	case *SinkStep:
		x.Input = in
	}
	return s, nil
}

// Marshal is json.Marshal without HTML escaping: plans hold SQL, where <, > and & are
// common, and the command log should read as the SQL it came from.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Encode returns the indented JSON form of a plan.
func Encode(q *Query) ([]byte, error) {
	b, err := Marshal(q)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Decode parses a Query document.
func Decode(b []byte) (*Query, error) {
	q := &Query{}
	if err := json.Unmarshal(b, q); err != nil {
		return nil, err
	}
	return q, nil
}
