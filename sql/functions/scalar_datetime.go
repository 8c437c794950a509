package functions

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicedb/sluice/sql/types"
)

// Date and time functions. Format arguments are java.time DateTimeFormatter patterns (see
// types.CompileJavaDateFormat); zone arguments are Java ZoneId strings (types.LoadZone).
//
// Time-unit arguments (DATEADD(DAYS, 1, d)): the parser produces an ast.IntervalUnit; the
// binder passes it to these functions as a STRING argument holding the unit keyword
// ("DAYS", "MILLISECONDS", ...), so the signatures below declare the unit as STRING.

const catDateTime = "DATE / TIME"

// unitMillis converts n units to milliseconds with java.util.concurrent.TimeUnit semantics
// (sub-millisecond units truncate toward zero).
func unitMillis(unit string, n int64) (int64, error) {
	switch strings.ToUpper(strings.TrimSpace(unit)) {
	case "DAYS", "DAY":
		return n * 86400000, nil
	case "HOURS", "HOUR":
		return n * 3600000, nil
	case "MINUTES", "MINUTE":
		return n * 60000, nil
	case "SECONDS", "SECOND":
		return n * 1000, nil
	case "MILLISECONDS", "MILLISECOND":
		return n, nil
	case "MICROSECONDS", "MICROSECOND":
		return n / 1000, nil
	case "NANOSECONDS", "NANOSECOND":
		return n / 1000000, nil
	}
	return 0, fmt.Errorf("Unknown time unit: '%s'", unit)
}

func unitDays(unit string, n int64) (int64, error) {
	ms, err := unitMillis(unit, n)
	if err != nil {
		return 0, err
	}
	return ms / 86400000, nil // TimeUnit.toDays truncates
}

func loadZoneArg(v any) (*time.Location, error) {
	s, _ := v.(string)
	loc, err := types.LoadZone(s)
	if err != nil {
		return nil, fmt.Errorf("Invalid time zone: %s", s)
	}
	return loc, nil
}

func formatWith(pattern string, t time.Time) (any, error) {
	f, err := types.CompileJavaDateFormat(pattern)
	if err != nil {
		return nil, fmt.Errorf("Failed to format with pattern '%s': %v", pattern, err)
	}
	s, err := f.Format(t)
	if err != nil {
		return nil, fmt.Errorf("Failed to format with pattern '%s': %v", pattern, err)
	}
	return s, nil
}

func parseWith(text, pattern string) (*types.ParsedDateTime, error) {
	f, err := types.CompileJavaDateFormat(pattern)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse '%s' with pattern '%s': %v", text, pattern, err)
	}
	p, err := f.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("Failed to parse '%s' with pattern '%s': %v", text, pattern, err)
	}
	return p, nil
}

func init() {
	registerScalar("CONVERT_TZ", catDateTime, "Converts a TIMESTAMP value from one time zone to another. Time zones are java.time ZoneId values such as 'America/Los_Angeles' or '+0200'.",
		ov(tTS, p("timestamp", tTS), p("fromTz", tString), p("toTz", tString)).strict().fn(func(a []any) (any, error) {
			from, err := loadZoneArg(a[1])
			if err != nil {
				return nil, err
			}
			to, err := loadZoneArg(a[2])
			if err != nil {
				return nil, err
			}
			ts := int64(a[0].(types.Timestamp))
			t := time.UnixMilli(ts)
			_, fo := t.In(from).Zone()
			_, tof := t.In(to).Zone()
			return types.Timestamp(ts + int64(tof-fo)*1000), nil
		}))

	dateShift := func(sign int64) func([]any) (any, error) {
		return func(a []any) (any, error) {
			n, _ := asInt(a[1])
			days, err := unitDays(a[0].(string), n)
			if err != nil {
				return nil, err
			}
			return types.Date(int64(a[2].(types.Date)) + sign*days), nil
		}
	}
	registerScalar("DATEADD", catDateTime, "Adds an interval to a date. Intervals are defined by an integer value and a supported time unit.",
		ov(tDate, p("unit", tString), p("interval", tInt), p("date", tDate)).strict().fn(dateShift(1)))
	registerScalar("DATESUB", catDateTime, "Subtracts an interval from a date. Intervals are defined by an integer value and a supported time unit.",
		ov(tDate, p("unit", tString), p("interval", tInt), p("date", tDate)).strict().fn(dateShift(-1)))

	timeShift := func(sign int64) func([]any) (any, error) {
		return func(a []any) (any, error) {
			n, _ := asInt(a[1])
			ms, err := unitMillis(a[0].(string), n)
			if err != nil {
				return nil, err
			}
			v := (int64(a[2].(types.Time)) + sign*ms) % 86400000
			if v < 0 {
				v += 86400000
			}
			return types.Time(v), nil
		}
	}
	registerScalar("TIMEADD", catDateTime, "Adds an interval to a time, wrapping around midnight. Intervals are defined by an integer value and a supported time unit.",
		ov(tTime, p("unit", tString), p("interval", tInt), p("time", tTime)).strict().fn(timeShift(1)))
	registerScalar("TIMESUB", catDateTime, "Subtracts an interval from a time, wrapping around midnight. Intervals are defined by an integer value and a supported time unit.",
		ov(tTime, p("unit", tString), p("interval", tInt), p("time", tTime)).strict().fn(timeShift(-1)))

	tsShift := func(sign int64) func([]any) (any, error) {
		return func(a []any) (any, error) {
			n, _ := asInt(a[1])
			ms, err := unitMillis(a[0].(string), n)
			if err != nil {
				return nil, err
			}
			return types.Timestamp(int64(a[2].(types.Timestamp)) + sign*ms), nil
		}
	}
	registerScalar("TIMESTAMPADD", catDateTime, "Adds an interval to a timestamp. Intervals are defined by an integer value and a supported time unit.",
		ov(tTS, p("unit", tString), p("interval", tInt), p("timestamp", tTS)).strict().fn(tsShift(1)),
		ov(tTS, p("unit", tString), p("interval", tBigint), p("timestamp", tTS)).strict().fn(tsShift(1)))
	registerScalar("TIMESTAMPSUB", catDateTime, "Subtracts an interval from a timestamp. Intervals are defined by an integer value and a supported time unit.",
		ov(tTS, p("unit", tString), p("interval", tInt), p("timestamp", tTS)).strict().fn(tsShift(-1)),
		ov(tTS, p("unit", tString), p("interval", tBigint), p("timestamp", tTS)).strict().fn(tsShift(-1)))

	registerScalar("FORMAT_DATE", catDateTime, "Converts a DATE value into a string representing the date in the given format (a java.time DateTimeFormatter pattern).",
		ov(tString, p("date", tDate), p("formatPattern", tString)).strict().fn(func(a []any) (any, error) {
			return formatWith(a[1].(string), types.DateToTime(a[0].(types.Date)))
		}))
	registerScalar("FORMAT_TIME", catDateTime, "Converts a TIME value into a string representing the time in the given format (a java.time DateTimeFormatter pattern).",
		ov(tString, p("time", tTime), p("formatPattern", tString)).strict().fn(func(a []any) (any, error) {
			return formatWith(a[1].(string), types.TimeToTime(a[0].(types.Time)))
		}))
	formatTS := func(a []any) (any, error) {
		loc := time.UTC
		if len(a) > 2 {
			l, err := loadZoneArg(a[2])
			if err != nil {
				return nil, err
			}
			loc = l
		}
		return formatWith(a[1].(string), types.TimestampToTime(a[0].(types.Timestamp)).In(loc))
	}
	registerScalar("FORMAT_TIMESTAMP", catDateTime, "Converts a TIMESTAMP value into a string in the given format (a java.time DateTimeFormatter pattern), in UTC or the given time zone.",
		ov(tString, p("timestamp", tTS), p("formatPattern", tString)).strict().fn(formatTS),
		ov(tString, p("timestamp", tTS), p("formatPattern", tString), p("timeZone", tString)).strict().fn(formatTS))

	registerScalar("PARSE_DATE", catDateTime, "Converts a string representation of a date in the given format into a DATE value.",
		ov(tDate, p("formattedDate", tString), p("formatPattern", tString)).strict().fn(func(a []any) (any, error) {
			pd, err := parseWith(a[0].(string), a[1].(string))
			if err != nil {
				return nil, err
			}
			return types.DateFromTime(pd.Time(time.UTC)), nil
		}))
	registerScalar("PARSE_TIME", catDateTime, "Converts a string representation of a time in the given format into a TIME value.",
		ov(tTime, p("formattedTime", tString), p("formatPattern", tString)).strict().fn(func(a []any) (any, error) {
			pd, err := parseWith(a[0].(string), a[1].(string))
			if err != nil {
				return nil, err
			}
			return types.Time(pd.Hour*3600000 + pd.Minute*60000 + pd.Second*1000 + pd.Nanos/1000000), nil
		}))
	parseTS := func(a []any) (any, error) {
		loc := time.UTC
		if len(a) > 2 {
			l, err := loadZoneArg(a[2])
			if err != nil {
				return nil, err
			}
			loc = l
		}
		pd, err := parseWith(a[0].(string), a[1].(string))
		if err != nil {
			return nil, err
		}
		return pd.Time(loc).UnixMilli(), nil
	}
	registerScalar("PARSE_TIMESTAMP", catDateTime, "Converts a string value in the given format into a TIMESTAMP, interpreting it in UTC or the given time zone unless the text carries its own zone.",
		ov(tTS, p("formattedTimestamp", tString), p("formatPattern", tString)).strict().fn(asTimestamp(parseTS)),
		ov(tTS, p("formattedTimestamp", tString), p("formatPattern", tString), p("timeZone", tString)).strict().fn(asTimestamp(parseTS)))

	registerScalar("FROM_DAYS", catDateTime, "Converts an INT number of days since the epoch to a DATE value.",
		ov(tDate, p("days", tInt)).strict().fn(func(a []any) (any, error) { return types.Date(a[0].(int32)), nil }))
	registerScalar("FROM_UNIXTIME", catDateTime, "Converts a BIGINT number of milliseconds since the epoch to a TIMESTAMP value.",
		ov(tTS, p("epochMilli", tBigint)).strict().fn(func(a []any) (any, error) { return types.Timestamp(a[0].(int64)), nil }))

	registerScalar("UNIX_DATE", catDateTime, "Returns the number of days since 1970-01-01 of the given DATE, or of the current date (UTC) without an argument.",
		ov(tInt).fn(func([]any) (any, error) { return int32(types.DateFromTime(time.Now().UTC())), nil }),
		ov(tInt, p("date", tDate)).strict().fn(func(a []any) (any, error) { return int32(a[0].(types.Date)), nil }))
	registerScalar("UNIX_TIMESTAMP", catDateTime, "Returns the number of milliseconds since 1970-01-01T00:00:00Z of the given TIMESTAMP, or the current time without an argument.",
		ov(tBigint).fn(func([]any) (any, error) { return time.Now().UnixMilli(), nil }),
		ov(tBigint, p("timestamp", tTS)).strict().fn(func(a []any) (any, error) { return int64(a[0].(types.Timestamp)), nil }))

	// Deprecated BIGINT/INT based forms, still used widely.
	registerScalar("DATETOSTRING", catDateTime, "Converts an INT number of days since the epoch to a string in the given format. Deprecated: use FORMAT_DATE.",
		ov(tString, p("epochDays", tInt), p("formatPattern", tString)).strict().fn(func(a []any) (any, error) {
			return formatWith(a[1].(string), types.DateToTime(types.Date(a[0].(int32))))
		}))
	registerScalar("STRINGTODATE", catDateTime, "Converts a string in the given format to an INT number of days since the epoch. Deprecated: use PARSE_DATE.",
		ov(tInt, p("formattedDate", tString), p("formatPattern", tString)).strict().fn(func(a []any) (any, error) {
			pd, err := parseWith(a[0].(string), a[1].(string))
			if err != nil {
				return nil, err
			}
			return int32(types.DateFromTime(pd.Time(time.UTC))), nil
		}))
	registerScalar("STRINGTOTIMESTAMP", catDateTime, "Converts a string in the given format to a BIGINT number of milliseconds since the epoch, in UTC or the given time zone. Deprecated: use PARSE_TIMESTAMP.",
		ov(tBigint, p("formattedTimestamp", tString), p("formatPattern", tString)).strict().fn(parseTS),
		ov(tBigint, p("formattedTimestamp", tString), p("formatPattern", tString), p("timeZone", tString)).strict().fn(parseTS))
	tsToString := func(a []any) (any, error) {
		return formatTS([]any{types.Timestamp(a[0].(int64)), a[1], a[len(a)-1]}[:len(a)])
	}
	registerScalar("TIMESTAMPTOSTRING", catDateTime, "Converts a BIGINT number of milliseconds since the epoch to a string in the given format, in UTC or the given time zone. Deprecated: use FORMAT_TIMESTAMP.",
		ov(tString, p("epochMilli", tBigint), p("formatPattern", tString)).strict().fn(tsToString),
		ov(tString, p("epochMilli", tBigint), p("formatPattern", tString), p("timeZone", tString)).strict().fn(tsToString))
}

func asTimestamp(f func([]any) (any, error)) func([]any) (any, error) {
	return func(a []any) (any, error) {
		v, err := f(a)
		if err != nil || v == nil {
			return v, err
		}
		return types.Timestamp(v.(int64)), nil
	}
}
