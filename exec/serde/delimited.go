package serde

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/sluicedb/sluice/sql/types"
)

// delimitedCodec reads and writes one line of delimiter-separated fields with CSV quoting
// (a field holding the delimiter, a quote or a line break is quoted, quotes doubled). An empty
// field is NULL.
type delimitedCodec struct {
	cols  []types.Column
	delim byte
}

func (c *delimitedCodec) Encode(vals []any) ([]byte, error) {
	var buf []byte
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, c.delim)
		}
		if v == nil {
			continue
		}
		s := delimitedText(v, c.cols[i].Type)
		if needsQuotes(s, c.delim, i == 0) {
			buf = append(buf, '"')
			buf = append(buf, strings.ReplaceAll(s, `"`, `""`)...)
			buf = append(buf, '"')
		} else {
			buf = append(buf, s...)
		}
	}
	return buf, nil
}

// needsQuotes follows the CSV writer ksqlDB uses (Commons CSV, minimal quoting), for numbers
// as for text: quote the first field of a record when it starts with anything but a letter or
// digit, any field starting with a character up to '#', holding the delimiter, a quote or a
// line break, or ending in white space.
func needsQuotes(s string, delim byte, first bool) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if first && !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
		return true
	}
	if c <= '#' || s[len(s)-1] <= ' ' {
		return true
	}
	return strings.ContainsAny(s, "\"\r\n") || strings.IndexByte(s, delim) >= 0
}

func delimitedText(v any, t *types.Type) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case float64:
		return JavaDouble(x)
	case decimal.Decimal:
		return x.StringFixed(int32(t.Scale))
	case types.Date:
		return strconv.FormatInt(int64(x), 10)
	case types.Time:
		return strconv.FormatInt(int64(x), 10)
	case types.Timestamp:
		return strconv.FormatInt(int64(x), 10)
	}
	return fmt.Sprint(v)
}

func (c *delimitedCodec) Decode(b []byte, vals []any) error {
	for i := range vals {
		vals[i] = nil
	}
	if b == nil {
		return nil
	}
	fields, err := splitDelimited(string(b), c.delim)
	if err != nil {
		return err
	}
	if len(fields) != len(c.cols) {
		if len(c.cols) == 0 && len(fields) == 1 && fields[0].text == "" {
			return nil
		}
		return fmt.Errorf("Column count mismatch on deserialization. topic: , columns: %d, values: %d", len(c.cols), len(fields))
	}
	for i, f := range fields {
		if f.text == "" && !f.quoted {
			continue
		}
		v, err := parseText(f.text, c.cols[i].Type)
		if err != nil {
			return fmt.Errorf("failed to deserialize column %s: %w", c.cols[i].Name, err)
		}
		vals[i] = v
	}
	return nil
}

type field struct {
	text   string
	quoted bool
}

func splitDelimited(s string, delim byte) ([]field, error) {
	var out []field
	i := 0
	for {
		if i < len(s) && s[i] == '"' {
			var sb strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated quoted field")
				}
				if s[i] == '"' {
					if i+1 < len(s) && s[i+1] == '"' {
						sb.WriteByte('"')
						i += 2
						continue
					}
					i++
					break
				}
				sb.WriteByte(s[i])
				i++
			}
			out = append(out, field{text: sb.String(), quoted: true})
			if i >= len(s) {
				return out, nil
			}
			if s[i] != delim {
				return nil, fmt.Errorf("unexpected character after quoted field")
			}
			i++
			continue
		}
		j := strings.IndexByte(s[i:], delim)
		if j < 0 {
			out = append(out, field{text: s[i:]})
			return out, nil
		}
		out = append(out, field{text: s[i : i+j]})
		i += j + 1
	}
}

// parseText converts the text form of a primitive value (DELIMITED fields, string coercions).
func parseText(s string, t *types.Type) (any, error) {
	switch t.Kind {
	case types.KindString:
		return s, nil
	case types.KindBoolean:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("invalid BOOLEAN %q", s)
	case types.KindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		return int32(n), err
	case types.KindBigint:
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	case types.KindDouble:
		return strconv.ParseFloat(strings.TrimSpace(s), 64)
	case types.KindDecimal:
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		return FitDecimal(d, t)
	case types.KindBytes:
		return base64.StdEncoding.DecodeString(s)
	case types.KindDate:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		return types.Date(n), err
	case types.KindTime:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		return types.Time(n), err
	case types.KindTimestamp:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return types.Timestamp(n), err
	}
	return nil, fmt.Errorf("type %s is not supported here", t)
}

// JavaDouble formats f as Java's Double.toString does (1.0, 1.0E10, 1.0E-4, NaN, Infinity).
func JavaDouble(f float64) string { return types.JavaDouble(f) }
