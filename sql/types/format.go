package types

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// FormatValue renders v (of SQL type t) as ksqlDB renders values as text: CAST(x AS STRING),
// CONCAT/ARRAY_JOIN of non-strings, and the DELIMITED format. NULL renders as "null" because
// that is what Java's String.valueOf gives for a nested null; callers that need SQL NULL for a
// top-level NULL (CAST) check for nil first.
//
// DOUBLE follows Java's Double.toString, DECIMAL keeps the type's scale in plain notation
// (BigDecimal.toPlainString), DATE is yyyy-MM-dd, TIME HH:mm:ss[.SSS], TIMESTAMP
// yyyy-MM-ddTHH:mm:ss.SSS, BYTES base64, ARRAY [a, b], MAP {k=v, k2=v2} and STRUCT
// Struct{A=1,B=x} (Kafka Connect's Struct.toString, which omits NULL fields).
func FormatValue(v any, t *Type) string {
	var sb strings.Builder
	writeValue(&sb, v, t)
	return sb.String()
}

func writeValue(sb *strings.Builder, v any, t *Type) {
	if v == nil {
		sb.WriteString("null")
		return
	}
	switch x := v.(type) {
	case string:
		sb.WriteString(x)
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case int32:
		sb.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		sb.WriteString(strconv.FormatInt(x, 10))
	case float64:
		var buf [32]byte
		sb.Write(AppendJavaDouble(buf[:0], x))
	case decimal.Decimal:
		scale := -1
		if t != nil && t.Kind == KindDecimal {
			scale = t.Scale
		}
		sb.WriteString(DecimalString(x, scale))
	case []byte:
		sb.WriteString(base64.StdEncoding.EncodeToString(x))
	case Date:
		sb.WriteString(FormatDate(x))
	case Time:
		sb.WriteString(FormatTime(x))
	case Timestamp:
		sb.WriteString(FormatTimestamp(x))
	case []any:
		var et *Type
		if t != nil {
			et = t.Elem
		}
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeValue(sb, e, et)
		}
		sb.WriteByte(']')
	case *Map:
		var kt, vt *Type
		if t != nil {
			kt, vt = t.Key, t.Elem
		}
		sb.WriteByte('{')
		for i := range x.Keys {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeValue(sb, x.Keys[i], kt)
			sb.WriteByte('=')
			writeValue(sb, x.Vals[i], vt)
		}
		sb.WriteByte('}')
	case *Struct:
		sb.WriteString("Struct{")
		first := true
		for i, val := range x.Vals {
			if val == nil {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			var ft *Type
			name := ""
			if i < len(x.Names) {
				name = x.Names[i]
			}
			if t != nil && i < len(t.Fields) {
				ft = t.Fields[i].Type
				name = t.Fields[i].Name
			}
			sb.WriteString(name)
			sb.WriteByte('=')
			writeValue(sb, val, ft)
		}
		sb.WriteByte('}')
	default:
		fmt.Fprint(sb, v)
	}
}

// DecimalString renders d in plain notation with exactly scale fractional digits (rounding
// HALF_UP if d has more), or with d's own digits when scale < 0.
func DecimalString(d decimal.Decimal, scale int) string {
	if scale < 0 {
		if d.Exponent() >= 0 {
			return d.String()
		}
		return d.StringFixed(-d.Exponent())
	}
	return d.StringFixed(int32(scale))
}

// RoundHalfUp rounds d to scale digits with Java's RoundingMode.HALF_UP (ties away from zero).
// shopspring's Round does exactly that; the named helper documents the intent at call sites.
func RoundHalfUp(d decimal.Decimal, scale int) decimal.Decimal {
	return d.Round(int32(scale))
}

// FitsDecimal reports whether d, rounded HALF_UP to t's scale, fits t's precision: its absolute
// value must be below 10^(precision-scale).
func FitsDecimal(d decimal.Decimal, t *Type) bool {
	r := d.Round(int32(t.Scale)).Abs()
	return r.Cmp(decimal.New(1, int32(t.Precision-t.Scale))) < 0
}

// ToDecimalType rounds d HALF_UP to t's scale and fails if the integer digits overflow t's
// precision, mirroring ksqlDB's DecimalUtil.ensureFit.
func ToDecimalType(d decimal.Decimal, t *Type) (decimal.Decimal, error) {
	r := d.Round(int32(t.Scale))
	if !FitsDecimal(r, t) {
		return decimal.Decimal{}, fmt.Errorf("Numeric field overflow: A field with precision %d and scale %d must round to an absolute value less than 10^%d. Got %s",
			t.Precision, t.Scale, t.Precision-t.Scale, DecimalString(d, -1))
	}
	return r, nil
}

// ParseDecimalWithScale parses text (trimmed; plain or scientific notation) and fits it to
// DECIMAL(precision, scale) with HALF_UP rounding.
func ParseDecimalWithScale(text string, precision, scale int) (decimal.Decimal, error) {
	s := strings.TrimSpace(text)
	d, err := decimal.NewFromString(s)
	if err != nil || s == "" || strings.ContainsAny(s, "_") {
		return decimal.Decimal{}, fmt.Errorf("Cannot convert '%s' to DECIMAL(%d, %d)", text, precision, scale)
	}
	return ToDecimalType(d, DecimalOf(precision, scale))
}

// DecimalTypeOfLiteral returns the DECIMAL type ksqlDB gives a literal such as 12.50:
// precision = number of digits (at least scale, at least 1), scale = digits after the point.
func DecimalTypeOfLiteral(text string) (*Type, error) {
	s := strings.TrimLeft(strings.TrimSpace(text), "+-")
	if _, err := decimal.NewFromString(s); err != nil {
		return nil, fmt.Errorf("invalid decimal literal %q", text)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	p := len(intPart) + len(frac)
	if p == 0 {
		p = 1
	}
	if p < len(frac) {
		p = len(frac)
	}
	return DecimalOf(p, len(frac)), nil
}

const msPerDay = 86400000

// FormatDate renders a DATE as yyyy-MM-dd.
func FormatDate(d Date) string {
	return DateToTime(d).Format("2006-01-02")
}

// FormatTime renders a TIME as HH:mm:ss, adding .SSS when the milliseconds are non-zero
// (java.time.LocalTime.toString).
func FormatTime(t Time) string {
	ms := int64(t)
	h, m, s, f := ms/3600000, (ms/60000)%60, (ms/1000)%60, ms%1000
	if f != 0 {
		return fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, s, f)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// FormatTimestamp renders a TIMESTAMP as ksqlDB does: yyyy-MM-ddTHH:mm:ss.SSS in UTC.
func FormatTimestamp(ts Timestamp) string {
	return TimestampToTime(ts).Format("2006-01-02T15:04:05.000")
}

// DateToTime converts a DATE to midnight UTC.
func DateToTime(d Date) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// TimestampToTime converts a TIMESTAMP to a UTC time.Time.
func TimestampToTime(ts Timestamp) time.Time { return time.UnixMilli(int64(ts)).UTC() }

// TimeToTime converts a TIME to that time of day on 1970-01-01 UTC.
func TimeToTime(t Time) time.Time { return time.UnixMilli(int64(t)).UTC() }

// DateFromTime returns the DATE of t's calendar day (in t's location).
func DateFromTime(t time.Time) Date {
	y, m, d := t.Date()
	u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date(floorDiv(u.Unix(), 86400))
}

// TimeFromTime returns the TIME of day of t (in t's location), truncated to milliseconds.
func TimeFromTime(t time.Time) Time {
	return Time(t.Hour()*3600000 + t.Minute()*60000 + t.Second()*1000 + t.Nanosecond()/1e6)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// ParseDate parses yyyy-MM-dd (ksqlDB's CAST(string AS DATE)); trailing time parts are
// rejected.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("Required format is: \"yyyy-MM-dd\"")
	}
	return DateFromTime(t), nil
}

// ParseTime parses HH:mm[:ss[.fraction]] (ISO local time, as CAST(string AS TIME)).
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return TimeFromTime(t), nil
		}
	}
	return 0, fmt.Errorf("Required format is: \"HH:mm:ss.SSS\"")
}

// ParseTimestamp parses an ISO-8601 timestamp as ksqlDB's CAST(string AS TIMESTAMP) does:
// yyyy-MM-dd['T'HH:mm[:ss[.fraction]]][zone], missing trailing fields zero, UTC by default.
// Partial forms such as '2017-11' or '2017-11-17T04' are padded like ksqlDB's
// PartialStringToTimestampParser.
func ParseTimestamp(s string) (Timestamp, error) {
	t, err := parseISOTimestamp(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("Timestamp format must be yyyy-mm-ddThh:mm:ss[.S]")
	}
	return Timestamp(t.UnixMilli()), nil
}

func parseISOTimestamp(s string) (time.Time, error) {
	// Split off a zone suffix: Z, +hh[:mm], -hh[:mm] after the time part.
	body, loc := s, time.UTC
	if tIdx := strings.IndexAny(s, "Tt "); tIdx >= 0 {
		rest := s[tIdx+1:]
		if i := strings.IndexAny(rest, "Zz+-"); i >= 0 {
			zone := rest[i:]
			body = s[:tIdx+1+i]
			if zone == "Z" || zone == "z" {
				loc = time.UTC
			} else {
				l, err := LoadZone(zone)
				if err != nil {
					return time.Time{}, err
				}
				loc = l
			}
		}
	}
	date, clock, hasClock := strings.Cut(body, "T")
	if !hasClock {
		date, clock, hasClock = strings.Cut(body, " ")
	}
	parts := strings.Split(date, "-")
	if len(parts) == 0 || len(parts) > 3 || len(parts[0]) != 4 {
		return time.Time{}, fmt.Errorf("bad date")
	}
	nums := []int{0, 1, 1}
	for i, p := range parts {
		if (i > 0 && len(p) != 2) || !allDigits(p) {
			return time.Time{}, fmt.Errorf("bad date")
		}
		nums[i], _ = strconv.Atoi(p)
	}
	h, m, sec, ns := 0, 0, 0, 0
	if hasClock {
		main, frac, hasFrac := strings.Cut(clock, ".")
		cp := strings.Split(main, ":")
		if len(cp) > 3 || main == "" {
			return time.Time{}, fmt.Errorf("bad time")
		}
		vals := []*int{&h, &m, &sec}
		for i, p := range cp {
			if len(p) != 2 || !allDigits(p) {
				return time.Time{}, fmt.Errorf("bad time")
			}
			*vals[i], _ = strconv.Atoi(p)
		}
		if hasFrac {
			if frac == "" || len(frac) > 9 || !allDigits(frac) || len(cp) != 3 {
				return time.Time{}, fmt.Errorf("bad fraction")
			}
			for len(frac) < 9 {
				frac += "0"
			}
			ns, _ = strconv.Atoi(frac)
		}
	}
	// 24:00 is the end of the day, the next day's midnight, as Java's smart resolver reads it.
	endOfDay := h == 24 && m == 0 && sec == 0 && ns == 0
	if nums[1] < 1 || nums[1] > 12 || nums[2] < 1 || nums[2] > daysIn(nums[0], nums[1]) || (h > 23 && !endOfDay) || m > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("out of range")
	}
	return time.Date(nums[0], time.Month(nums[1]), nums[2], h, m, sec, ns, loc), nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
