package types

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone rules must not depend on the host: FORMAT_TIMESTAMP output is data
	"unicode"
)

// This file reproduces two pieces of the JVM that leak into ksqlDB's observable output:
// Double.toString (every DOUBLE rendered as text) and java.time.format.DateTimeFormatter
// patterns (FORMAT_*/PARSE_* and the deprecated STRINGTO*/…TOSTRING functions).

// JavaDouble renders f exactly like Java's Double.toString (JDK 19+, which picks the shortest
// decimal that round-trips, as strconv does, but never fewer than two significant digits when the
// shortest would be one: 4.9E-324 rather than 5E-324). Layout: plain notation with at least one
// fractional digit for 1e-3 <= |f| < 1e7, otherwise d.dddE±n.
func JavaDouble(f float64) string {
	var buf [32]byte
	return string(AppendJavaDouble(buf[:0], f))
}

// AppendJavaDouble appends JavaDouble(f) to dst.
func AppendJavaDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	// s is d[.ddd]e±xx
	epos := indexByte(s, 'e')
	mant, expPart := s[:epos], s[epos+1:]
	if len(mant) == 1 {
		// One significant digit: Java considers two-digit candidates too and takes the closest.
		s2 := strconv.AppendFloat(tmp[:0], math.Abs(f), 'e', 1, 64)
		epos = indexByte(s2, 'e')
		mant, expPart = s2[:epos], s2[epos+1:]
	}
	exp, _ := strconv.Atoi(string(expPart))
	var digits [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	for nd > 1 && digits[nd-1] == '0' {
		nd--
	}
	d := digits[:nd]
	if neg {
		dst = append(dst, '-')
	}
	if exp >= -3 && exp < 7 {
		if exp < 0 {
			dst = append(dst, '0', '.')
			for i := 0; i < -exp-1; i++ {
				dst = append(dst, '0')
			}
			return append(dst, d...)
		}
		intLen := exp + 1
		for i := 0; i < intLen; i++ {
			if i < len(d) {
				dst = append(dst, d[i])
			} else {
				dst = append(dst, '0')
			}
		}
		dst = append(dst, '.')
		if intLen >= len(d) {
			return append(dst, '0')
		}
		return append(dst, d[intLen:]...)
	}
	dst = append(dst, d[0], '.')
	if len(d) == 1 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, d[1:]...)
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// JavaRound is java.lang.Math.round(double): floor(x + 0.5) with Java's saturation (NaN -> 0,
// out-of-range values clamp to the int64 limits). Ties therefore go toward positive infinity.
func JavaRound(x float64) int64 {
	if math.IsNaN(x) {
		return 0
	}
	// Math.floor(x+0.5) is wrong for 0.49999999999999994; Java 7+ rounds that to 0, and so does
	// this because we only add 0.5 when the fraction is exactly representable as a tie or above.
	r := math.Floor(x)
	if x-r >= 0.5 {
		r++
	}
	return saturateInt64(r)
}

func saturateInt64(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

func saturateInt32(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

// ---------------------------------------------------------------------------------------------
// java.time DateTimeFormatter patterns

// JavaDateFormat is a compiled java.time.format.DateTimeFormatter pattern (English locale). It
// formats and parses (case-insensitively, as ksqlDB builds its parsers). Safe for concurrent use.
type JavaDateFormat struct {
	pattern string
	items   []fmtItem
}

type fmtItem struct {
	letter   byte   // pattern letter, 0 for a literal
	count    int    // repetitions of the letter
	lit      string // literal text
	optional []fmtItem
	isOpt    bool
}

var (
	patternCacheMu sync.Mutex
	patternCache   = map[string]*JavaDateFormat{}
)

// CompileJavaDateFormat compiles a DateTimeFormatter pattern, caching the result because the
// format argument is nearly always a literal evaluated for every row.
func CompileJavaDateFormat(pattern string) (*JavaDateFormat, error) {
	patternCacheMu.Lock()
	f, ok := patternCache[pattern]
	patternCacheMu.Unlock()
	if ok {
		return f, nil
	}
	items, rest, err := compilePattern(pattern, false)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("Unknown pattern: unbalanced ']' in %q", pattern)
	}
	f = &JavaDateFormat{pattern: pattern, items: items}
	patternCacheMu.Lock()
	if len(patternCache) > 4096 {
		patternCache = map[string]*JavaDateFormat{}
	}
	patternCache[pattern] = f
	patternCacheMu.Unlock()
	return f, nil
}

const patternLetters = "GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZp"

func compilePattern(p string, inOpt bool) ([]fmtItem, string, error) {
	var items []fmtItem
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			// Quoted literal; '' is a single quote, inside or outside quotes.
			j := i + 1
			var sb strings.Builder
			closed := false
			for j < len(p) {
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						sb.WriteByte('\'')
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				sb.WriteByte(p[j])
				j++
			}
			if !closed {
				return nil, "", fmt.Errorf("Pattern ends with an incomplete string literal: %s", p)
			}
			if j == i+2 { // ''
				items = append(items, fmtItem{lit: "'"})
			} else {
				items = append(items, fmtItem{lit: sb.String()})
			}
			i = j
		case c == '[':
			sub, rest, err := compilePattern(p[i+1:], true)
			if err != nil {
				return nil, "", err
			}
			items = append(items, fmtItem{isOpt: true, optional: sub})
			if rest == "" {
				return items, "", nil // unclosed '[' runs to the end, as Java allows
			}
			i = len(p) - len(rest) + 1
		case c == ']':
			if !inOpt {
				return nil, "", fmt.Errorf("Pattern invalid as it contains ] without previous [")
			}
			return items, p[i:], nil
		case c == '{' || c == '}' || c == '#':
			return nil, "", fmt.Errorf("Pattern includes reserved character: '%c'", c)
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune(patternLetters, rune(c)) {
				return nil, "", fmt.Errorf("Unknown pattern letter: %c", c)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			n := j - i
			if err := checkCount(c, n); err != nil {
				return nil, "", err
			}
			items = append(items, fmtItem{letter: c, count: n})
			i = j
		default:
			items = append(items, fmtItem{lit: string(c)})
			i++
		}
	}
	return items, "", nil
}

func checkCount(c byte, n int) error {
	max := 0
	switch c {
	case 'G', 'E', 'M', 'L', 'Q', 'q', 'e', 'c', 'X', 'x', 'Z', 'z', 'a', 'B':
		max = 5
		if c == 'z' || c == 'a' {
			max = 4
		}
		if c == 'c' || c == 'e' {
			max = 5
		}
	case 'd', 'h', 'H', 'k', 'K', 'm', 's', 'D':
		max = 2
		if c == 'D' {
			max = 3
		}
	case 'V':
		if n != 2 {
			return fmt.Errorf("Pattern letter count must be 2: V")
		}
		return nil
	case 'O':
		if n != 1 && n != 4 {
			return fmt.Errorf("Pattern letter count must be 1 or 4: O")
		}
		return nil
	default:
		return nil
	}
	if n > max {
		return fmt.Errorf("Too many pattern letters: %c", c)
	}
	return nil
}

var (
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
)

// Format renders t (already in the desired zone) with the pattern.
func (f *JavaDateFormat) Format(t time.Time) (string, error) {
	var sb strings.Builder
	if err := formatItems(&sb, f.items, t); err != nil {
		return "", err
	}
	return sb.String(), nil
}

func pad(sb *strings.Builder, v int64, width int) {
	s := strconv.FormatInt(v, 10)
	neg := false
	if v < 0 {
		neg = true
		s = s[1:]
		sb.WriteByte('-')
	}
	_ = neg
	for i := len(s); i < width; i++ {
		sb.WriteByte('0')
	}
	sb.WriteString(s)
}

func formatItems(sb *strings.Builder, items []fmtItem, t time.Time) error {
	for _, it := range items {
		if it.isOpt {
			if err := formatItems(sb, it.optional, t); err != nil {
				return err
			}
			continue
		}
		if it.letter == 0 {
			sb.WriteString(it.lit)
			continue
		}
		n := it.count
		switch it.letter {
		case 'G':
			if t.Year() <= 0 {
				sb.WriteString(map[bool]string{true: "Before Christ", false: "BC"}[n == 4])
			} else {
				sb.WriteString(map[bool]string{true: "Anno Domini", false: "AD"}[n == 4])
			}
		case 'y', 'u', 'Y':
			y := int64(t.Year())
			if it.letter == 'Y' {
				yy, _ := t.ISOWeek()
				y = int64(yy)
			}
			if it.letter == 'y' && y <= 0 {
				y = 1 - y // year of era
			}
			if n == 2 {
				pad(sb, ((y%100)+100)%100, 2)
			} else {
				if y > 9999 && n == 4 {
					sb.WriteByte('+')
				}
				pad(sb, y, n)
			}
		case 'M', 'L':
			m := int(t.Month())
			switch {
			case n <= 2:
				pad(sb, int64(m), n)
			case n == 3:
				sb.WriteString(shortMonths[m-1])
			case n == 4:
				sb.WriteString(t.Month().String())
			default:
				sb.WriteString(t.Month().String()[:1])
			}
		case 'd':
			pad(sb, int64(t.Day()), n)
		case 'D':
			pad(sb, int64(t.YearDay()), n)
		case 'Q', 'q':
			q := (int(t.Month())-1)/3 + 1
			switch {
			case n <= 2:
				pad(sb, int64(q), n)
			case n == 3:
				sb.WriteString("Q" + strconv.Itoa(q))
			case n == 4:
				sb.WriteString([...]string{"1st", "2nd", "3rd", "4th"}[q-1] + " quarter")
			default:
				sb.WriteString(strconv.Itoa(q))
			}
		case 'w':
			_, w := t.ISOWeek()
			pad(sb, int64(w), n)
		case 'W':
			pad(sb, int64((t.Day()+int(t.AddDate(0, 0, -t.Day()+1).Weekday())-1)/7+1), n)
		case 'E', 'e', 'c':
			wd := t.Weekday()
			if (it.letter == 'e' || it.letter == 'c') && n <= 2 {
				pad(sb, int64(wd)+1, n) // US locale: Sunday is day 1
				continue
			}
			switch {
			case n <= 3:
				sb.WriteString(shortDays[wd])
			case n == 4:
				sb.WriteString(wd.String())
			default:
				sb.WriteString(wd.String()[:1])
			}
		case 'F':
			pad(sb, int64((t.Day()-1)/7+1), n)
		case 'a':
			if t.Hour() < 12 {
				sb.WriteString("AM")
			} else {
				sb.WriteString("PM")
			}
		case 'B':
			h := t.Hour()
			switch {
			case h >= 6 && h < 12:
				sb.WriteString("in the morning")
			case h >= 12 && h < 18:
				sb.WriteString("in the afternoon")
			case h >= 18 && h < 21:
				sb.WriteString("in the evening")
			default:
				sb.WriteString("at night")
			}
		case 'H':
			pad(sb, int64(t.Hour()), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			pad(sb, int64(h), n)
		case 'K':
			pad(sb, int64(t.Hour()%12), n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(sb, int64(h), n)
		case 'm':
			pad(sb, int64(t.Minute()), n)
		case 's':
			pad(sb, int64(t.Second()), n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			for len(frac) < n {
				frac += "0"
			}
			sb.WriteString(frac[:n])
		case 'A':
			ms := int64(t.Hour())*3600000 + int64(t.Minute())*60000 + int64(t.Second())*1000 + int64(t.Nanosecond()/1e6)
			pad(sb, ms, n)
		case 'n':
			pad(sb, int64(t.Nanosecond()), n)
		case 'N':
			ns := (int64(t.Hour())*3600+int64(t.Minute())*60+int64(t.Second()))*1e9 + int64(t.Nanosecond())
			pad(sb, ns, n)
		case 'V':
			sb.WriteString(zoneID(t))
		case 'v':
			sb.WriteString(zoneID(t))
		case 'z':
			name, off := t.Zone()
			if n == 4 {
				sb.WriteString(zoneID(t))
				continue
			}
			if name == "" || name[0] == '+' || name[0] == '-' {
				sb.WriteString(localizedOffset(off, true))
			} else {
				sb.WriteString(name)
			}
		case 'O':
			_, off := t.Zone()
			sb.WriteString(localizedOffset(off, n == 4))
		case 'X', 'x':
			_, off := t.Zone()
			if it.letter == 'X' && off == 0 {
				sb.WriteByte('Z')
				continue
			}
			sb.WriteString(isoOffset(off, n))
		case 'Z':
			_, off := t.Zone()
			switch {
			case n <= 3:
				sb.WriteString(isoOffset(off, 2))
			case n == 4:
				sb.WriteString(localizedOffset(off, true))
			default:
				if off == 0 {
					sb.WriteByte('Z')
				} else {
					sb.WriteString(isoOffset(off, 5))
				}
			}
		case 'p':
			// pad modifier: ignored (rare); Java pads the next field with spaces.
		default:
			return fmt.Errorf("Unsupported pattern letter: %c", it.letter)
		}
	}
	return nil
}

func zoneID(t time.Time) string {
	name := t.Location().String()
	if name == "UTC" || name == "" {
		return "Z"
	}
	return name
}

// isoOffset renders an offset as Java's X/x patterns do for a letter count n.
func isoOffset(off, n int) string {
	sign := byte('+')
	if off < 0 {
		sign = '-'
		off = -off
	}
	h, m, s := off/3600, (off/60)%60, off%60
	var sb strings.Builder
	sb.WriteByte(sign)
	sb.WriteString(fmt.Sprintf("%02d", h))
	switch n {
	case 1:
		if m != 0 {
			sb.WriteString(fmt.Sprintf("%02d", m))
		}
	case 2:
		sb.WriteString(fmt.Sprintf("%02d", m))
	case 3:
		sb.WriteString(fmt.Sprintf(":%02d", m))
	case 4:
		sb.WriteString(fmt.Sprintf("%02d", m))
		if s != 0 {
			sb.WriteString(fmt.Sprintf("%02d", s))
		}
	default:
		sb.WriteString(fmt.Sprintf(":%02d", m))
		if s != 0 {
			sb.WriteString(fmt.Sprintf(":%02d", s))
		}
	}
	return sb.String()
}

func localizedOffset(off int, full bool) string {
	if off == 0 {
		return "GMT"
	}
	sign := "+"
	if off < 0 {
		sign = "-"
		off = -off
	}
	h, m := off/3600, (off/60)%60
	if full {
		return fmt.Sprintf("GMT%s%02d:%02d", sign, h, m)
	}
	if m == 0 {
		return fmt.Sprintf("GMT%s%d", sign, h)
	}
	return fmt.Sprintf("GMT%s%d:%02d", sign, h, m)
}

// ParsedDateTime holds the fields recognised by Parse. Missing fields are defaulted by the
// caller (ksqlDB defaults year 1970, month 1, day 1 and midnight).
type ParsedDateTime struct {
	Year, Month, Day, DayOfYear int
	Hour, Minute, Second, Nanos int
	hasYear, hasMonth, hasDay   bool
	hasDayOfYear, hasHour       bool
	hour12                      int // h/K value, -1 if absent
	pm                          int // -1 unknown, 0 AM, 1 PM
	Loc                         *time.Location
	HasDate, HasTime            bool
}

// ErrParse is wrapped by all parse failures.
var ErrParse = errors.New("text could not be parsed")

// Parse parses s with the pattern (case-insensitive, strict about widths like Java).
func (f *JavaDateFormat) Parse(s string) (*ParsedDateTime, error) {
	p := &ParsedDateTime{hour12: -1, pm: -1}
	pos, err := parseItems(f.items, s, 0, p)
	if err != nil {
		return nil, fmt.Errorf("Text '%s' could not be parsed at index %d: %w", s, pos, ErrParse)
	}
	if pos != len(s) {
		return nil, fmt.Errorf("Text '%s' could not be parsed, unparsed text found at index %d: %w", s, pos, ErrParse)
	}
	if p.hour12 >= 0 {
		h := p.hour12 % 12
		if p.pm == 1 {
			h += 12
		}
		p.Hour = h
		p.hasHour = true
	} else if p.pm == 1 && p.hasHour && p.Hour < 12 {
		// 'a' with H is allowed by Java only when consistent; keep H.
		_ = p
	}
	if p.hasHour {
		p.HasTime = true
	}
	if !p.hasYear {
		p.Year = 1970
	}
	if !p.hasMonth {
		p.Month = 1
	}
	if !p.hasDay {
		p.Day = 1
	}
	if p.hasDayOfYear {
		d := time.Date(p.Year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, p.DayOfYear-1)
		p.Month, p.Day = int(d.Month()), d.Day()
	}
	if p.Month < 1 || p.Month > 12 {
		return nil, fmt.Errorf("Text '%s' could not be parsed: Invalid value for MonthOfYear: %d: %w", s, p.Month, ErrParse)
	}
	if p.Day < 1 || p.Day > daysIn(p.Year, p.Month) {
		return nil, fmt.Errorf("Text '%s' could not be parsed: Invalid date: %w", s, ErrParse)
	}
	if p.Hour > 23 || p.Minute > 59 || p.Second > 59 {
		return nil, fmt.Errorf("Text '%s' could not be parsed: Invalid time: %w", s, ErrParse)
	}
	return p, nil
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Time returns the parsed instant, interpreting local fields in loc unless the text had a zone.
func (p *ParsedDateTime) Time(loc *time.Location) time.Time {
	if p.Loc != nil {
		loc = p.Loc
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(p.Year, time.Month(p.Month), p.Day, p.Hour, p.Minute, p.Second, p.Nanos, loc)
}

func isNumericItem(it fmtItem) bool {
	switch it.letter {
	case 'y', 'u', 'Y', 'd', 'D', 'H', 'h', 'k', 'K', 'm', 's', 'S', 'n', 'A', 'N', 'w', 'W', 'F':
		return true
	case 'M', 'L', 'Q', 'q', 'e', 'c':
		return it.count <= 2
	}
	return false
}

// fixedWidth reports the exact digit count a numeric item consumes, or 0 when variable.
func fixedWidth(it fmtItem) int {
	switch it.letter {
	case 'S':
		return it.count
	case 'y', 'u', 'Y':
		if it.count == 2 {
			return 2
		}
		return 0
	}
	if isNumericItem(it) && it.count >= 2 {
		return it.count
	}
	return 0
}

func parseItems(items []fmtItem, s string, pos int, p *ParsedDateTime) (int, error) {
	for idx, it := range items {
		if it.isOpt {
			save := *p
			np, err := parseItems(it.optional, s, pos, p)
			if err != nil {
				*p = save
				continue
			}
			pos = np
			continue
		}
		if it.letter == 0 {
			if len(s)-pos < len(it.lit) || !strings.EqualFold(s[pos:pos+len(it.lit)], it.lit) {
				return pos, ErrParse
			}
			pos += len(it.lit)
			continue
		}
		if isNumericItem(it) {
			width := fixedWidth(it)
			maxDigits := 19
			minDigits := it.count
			if width > 0 {
				minDigits, maxDigits = width, width
			} else if it.letter != 'y' && it.letter != 'u' && it.letter != 'Y' && it.count == 1 {
				minDigits = 1
			}
			// Adjacent value parsing: a variable-width field leaves room for the fixed-width
			// numeric fields that follow it directly.
			avail := 0
			for pos+avail < len(s) && s[pos+avail] >= '0' && s[pos+avail] <= '9' {
				avail++
			}
			if width == 0 {
				reserve := 0
				for _, nx := range items[idx+1:] {
					if nx.isOpt || !isNumericItem(nx) || fixedWidth(nx) == 0 {
						break
					}
					reserve += fixedWidth(nx)
				}
				if avail-reserve < maxDigits {
					maxDigits = avail - reserve
				}
			}
			sign := 1
			if (it.letter == 'y' || it.letter == 'u') && it.count >= 4 && pos < len(s) && (s[pos] == '+' || s[pos] == '-') {
				if s[pos] == '-' {
					sign = -1
				}
				pos++
				avail = 0
				for pos+avail < len(s) && s[pos+avail] >= '0' && s[pos+avail] <= '9' {
					avail++
				}
				if avail < maxDigits {
					maxDigits = avail
				}
			}
			n := avail
			if n > maxDigits {
				n = maxDigits
			}
			if n < minDigits || n <= 0 {
				return pos, ErrParse
			}
			v, err := strconv.ParseInt(s[pos:pos+n], 10, 64)
			if err != nil {
				return pos, ErrParse
			}
			digits := s[pos : pos+n]
			pos += n
			val := int(v) * sign
			switch it.letter {
			case 'y', 'u', 'Y':
				if it.count == 2 {
					val += 2000 // Java's reduced-value base for yy is 2000
				}
				p.Year, p.hasYear = val, true
				p.HasDate = true
			case 'M', 'L':
				p.Month, p.hasMonth = val, true
				p.HasDate = true
			case 'd':
				p.Day, p.hasDay = val, true
				p.HasDate = true
			case 'D':
				p.DayOfYear, p.hasDayOfYear = val, true
				p.HasDate = true
			case 'H', 'k':
				if it.letter == 'k' && val == 24 {
					val = 0
				}
				p.Hour, p.hasHour = val, true
			case 'h', 'K':
				if val > 12 {
					return pos, ErrParse
				}
				p.hour12 = val
			case 'm':
				p.Minute = val
				p.HasTime = true
			case 's':
				p.Second = val
				p.HasTime = true
			case 'S':
				for len(digits) < 9 {
					digits += "0"
				}
				ns, _ := strconv.Atoi(digits[:9])
				p.Nanos = ns
			case 'n':
				p.Nanos = val
			case 'A':
				ms := val
				p.Hour, p.Minute, p.Second, p.Nanos = ms/3600000, (ms/60000)%60, (ms/1000)%60, (ms%1000)*1e6
				p.hasHour = true
			}
			continue
		}
		rest := s[pos:]
		switch it.letter {
		case 'M', 'L':
			found := false
			for i := 0; i < 12; i++ {
				name := shortMonths[i]
				if it.count == 4 {
					name = time.Month(i + 1).String()
				}
				if hasPrefixFold(rest, name) {
					p.Month, p.hasMonth, p.HasDate = i+1, true, true
					pos += len(name)
					found = true
					break
				}
			}
			if !found {
				return pos, ErrParse
			}
		case 'E', 'e', 'c':
			found := false
			for i := 0; i < 7; i++ {
				name := shortDays[i]
				if it.count == 4 {
					name = time.Weekday(i).String()
				}
				if hasPrefixFold(rest, name) {
					pos += len(name)
					found = true
					break
				}
			}
			if !found {
				return pos, ErrParse
			}
		case 'a':
			switch {
			case hasPrefixFold(rest, "AM"):
				p.pm = 0
			case hasPrefixFold(rest, "PM"):
				p.pm = 1
			default:
				return pos, ErrParse
			}
			pos += 2
		case 'G':
			switch {
			case hasPrefixFold(rest, "AD"):
				pos += 2
			case hasPrefixFold(rest, "BC"):
				pos += 2
			default:
				return pos, ErrParse
			}
		case 'X', 'x', 'Z', 'O':
			loc, n, ok := parseOffset(rest, it)
			if !ok {
				return pos, ErrParse
			}
			p.Loc = loc
			pos += n
		case 'z', 'V', 'v':
			loc, n, ok := parseZoneText(rest)
			if !ok {
				return pos, ErrParse
			}
			p.Loc = loc
			pos += n
		case 'p':
		default:
			return pos, ErrParse
		}
	}
	return pos, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func parseOffset(s string, it fmtItem) (*time.Location, int, bool) {
	n := 0
	if it.letter == 'O' || (it.letter == 'Z' && it.count == 4) {
		if !hasPrefixFold(s, "GMT") {
			return nil, 0, false
		}
		n = 3
		if n == len(s) || (s[n] != '+' && s[n] != '-') {
			return time.UTC, n, true
		}
	}
	if len(s) > n && (s[n] == 'Z' || s[n] == 'z') && (it.letter == 'X' || (it.letter == 'Z' && it.count == 5)) {
		return time.UTC, n + 1, true
	}
	if len(s) <= n || (s[n] != '+' && s[n] != '-') {
		return nil, 0, false
	}
	sign := 1
	if s[n] == '-' {
		sign = -1
	}
	n++
	num := func(min, max int) (int, bool) {
		d := 0
		for n+d < len(s) && d < max && s[n+d] >= '0' && s[n+d] <= '9' {
			d++
		}
		if d < min {
			return 0, false
		}
		v, _ := strconv.Atoi(s[n : n+d])
		n += d
		return v, true
	}
	h, ok := num(1, 2)
	if !ok {
		return nil, 0, false
	}
	m, sec := 0, 0
	if n < len(s) && s[n] == ':' {
		n++
		if m, ok = num(2, 2); !ok {
			return nil, 0, false
		}
		if n < len(s) && s[n] == ':' {
			n++
			if sec, ok = num(2, 2); !ok {
				return nil, 0, false
			}
		}
	} else if v, ok2 := num(2, 2); ok2 {
		m = v
		if v2, ok3 := num(2, 2); ok3 {
			sec = v2
		}
	}
	off := sign * (h*3600 + m*60 + sec)
	if h > 18 || m > 59 || sec > 59 || off > 18*3600 || off < -18*3600 {
		return nil, 0, false // java.time.ZoneOffset is limited to ±18:00
	}
	return time.FixedZone(isoOffset(off, 5), off), n, true
}

// zoneAbbrevs maps the short zone names Java's text parser accepts (for 'z') to region IDs, so
// that 'PST' in May means Pacific *daylight* time as it does in Java.
var zoneAbbrevs = map[string]string{
	"UTC": "UTC", "GMT": "GMT", "UT": "UTC", "Z": "UTC",
	"PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
	"MST": "America/Denver", "MDT": "America/Denver",
	"CST": "America/Chicago", "CDT": "America/Chicago",
	"EST": "America/New_York", "EDT": "America/New_York",
	"AKST": "America/Anchorage", "AKDT": "America/Anchorage",
	"HST": "Pacific/Honolulu",
	"BST": "Europe/London",
	"CET": "Europe/Paris", "CEST": "Europe/Paris",
	"EET": "Europe/Bucharest", "EEST": "Europe/Bucharest",
	"WET": "Europe/Lisbon", "WEST": "Europe/Lisbon",
	"IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "KST": "Asia/Seoul",
	"AEST": "Australia/Sydney", "AEDT": "Australia/Sydney",
	"NZST": "Pacific/Auckland", "NZDT": "Pacific/Auckland",
}

func parseZoneText(s string) (*time.Location, int, bool) {
	// Longest run of zone-id characters: letters, digits, '/', '_', '+', '-', ':'.
	n := 0
	for n < len(s) {
		c := rune(s[n])
		if unicode.IsLetter(c) || unicode.IsDigit(c) || c == '/' || c == '_' || c == '+' || c == '-' || c == ':' {
			n++
			continue
		}
		break
	}
	for l := n; l > 0; l-- {
		cand := s[:l]
		if id, ok := zoneAbbrevs[strings.ToUpper(cand)]; ok {
			if loc, err := time.LoadLocation(id); err == nil {
				return loc, l, true
			}
		}
		if loc, err := LoadZone(cand); err == nil {
			return loc, l, true
		}
	}
	return nil, 0, false
}

var (
	zoneCacheMu sync.Mutex
	zoneCache   = map[string]*time.Location{}
)

// LoadZone resolves a Java ZoneId string: a region ID ("America/Los_Angeles"), "UTC"/"GMT"/"Z",
// an offset ("+02:00", "+0200", "-5"), or a prefixed offset ("UTC+2", "GMT-03:30").
func LoadZone(id string) (*time.Location, error) {
	zoneCacheMu.Lock()
	loc, ok := zoneCache[id]
	zoneCacheMu.Unlock()
	if ok {
		return loc, nil
	}
	loc, err := loadZone(id)
	if err != nil {
		return nil, err
	}
	zoneCacheMu.Lock()
	zoneCache[id] = loc
	zoneCacheMu.Unlock()
	return loc, nil
}

func loadZone(id string) (*time.Location, error) {
	switch id {
	case "":
		return nil, fmt.Errorf("Invalid ID for ZoneId: %s", id)
	case "Z", "UTC", "GMT", "UT":
		return time.UTC, nil
	}
	if id[0] == '+' || id[0] == '-' {
		loc, n, ok := parseOffset(id, fmtItem{letter: 'x', count: 3})
		if ok && n == len(id) {
			return loc, nil
		}
		return nil, fmt.Errorf("Invalid ID for offset-based ZoneId: %s", id)
	}
	for _, pfx := range []string{"UTC", "GMT", "UT"} {
		if strings.HasPrefix(id, pfx) && len(id) > len(pfx) && (id[len(pfx)] == '+' || id[len(pfx)] == '-') {
			loc, n, ok := parseOffset(id[len(pfx):], fmtItem{letter: 'x', count: 3})
			if ok && n == len(id)-len(pfx) {
				return loc, nil
			}
			return nil, fmt.Errorf("Invalid ID for offset-based ZoneId: %s", id)
		}
	}
	if strings.Contains(id, "..") || strings.HasPrefix(id, "/") || strings.ContainsAny(id, " \\") {
		return nil, fmt.Errorf("Unknown time-zone ID: %s", id)
	}
	loc, err := time.LoadLocation(id)
	if err != nil || id == "Local" {
		return nil, fmt.Errorf("Unknown time-zone ID: %s", id)
	}
	return loc, nil
}
