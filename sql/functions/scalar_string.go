package functions

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sluicedb/sluice/sql/types"
)

// String and bytes scalar functions. Positions are 1-based and counted in characters (runes);
// Java counts UTF-16 code units, which differs only for characters outside the BMP (LEN alone
// follows Java there, because its result is directly observable as a number).

const catString = "STRING"

func init() {
	registerScalar("CHR", catString, "Returns a single-character string representing the Unicode code-point described by the input. The input parameter can be either a decimal or a string representation of a UTF-16 code point such as '\\u004b'.",
		ov(tString, p("decimalCode", tInt)).strict().fn(func(a []any) (any, error) {
			c := a[0].(int32)
			if c < 0 || c > unicode.MaxRune || (c >= 0xD800 && c <= 0xDFFF) {
				return nil, nil
			}
			return string(rune(c)), nil
		}),
		ov(tString, p("utf16Code", tString)).strict().fn(func(a []any) (any, error) {
			s := a[0].(string)
			if len(s) != 6 || !strings.HasPrefix(s, "\\u") {
				return nil, nil
			}
			c, err := strconv.ParseUint(s[2:], 16, 32)
			if err != nil || (c >= 0xD800 && c <= 0xDFFF) {
				return nil, nil
			}
			return string(rune(c)), nil
		}),
	)

	registerScalar("CONCAT", catString, "Concatenate an arbitrary number of string or bytes fields together. NULL inputs are ignored.",
		ov(tString, p("inputs", tString)).vararg().fn(func(a []any) (any, error) {
			var sb strings.Builder
			for _, v := range a {
				if s, ok := v.(string); ok {
					sb.WriteString(s)
				}
			}
			return sb.String(), nil
		}),
		ov(tBytes, p("inputs", tBytes)).vararg().fn(func(a []any) (any, error) {
			var out []byte
			for _, v := range a {
				if b, ok := v.([]byte); ok {
					out = append(out, b...)
				}
			}
			if out == nil {
				out = []byte{}
			}
			return out, nil
		}),
	)

	registerScalar("CONCAT_WS", catString, "Concatenates two or more string or bytes expressions, inserting a separator between each. If the separator is NULL, this function returns NULL. NULL expressions are skipped.",
		ov(tString, p("separator", tString), p("args", tString)).vararg().fn(func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var parts []string
			for _, v := range a[1:] {
				if s, ok := v.(string); ok {
					parts = append(parts, s)
				}
			}
			return strings.Join(parts, a[0].(string)), nil
		}),
		ov(tBytes, p("separator", tBytes), p("args", tBytes)).vararg().fn(func(a []any) (any, error) {
			if a[0] == nil {
				return nil, nil
			}
			var parts [][]byte
			for _, v := range a[1:] {
				if b, ok := v.([]byte); ok {
					parts = append(parts, b)
				}
			}
			out := bytes.Join(parts, a[0].([]byte))
			if out == nil {
				out = []byte{}
			}
			return out, nil
		}),
	)

	registerScalar("ENCODE", catString, "Takes an input string s, which is encoded as input_encoding, and encodes it as output_encoding. The accepted input and output encodings are: hex, utf8, ascii and base64.",
		ov(tString, p("str", tString), p("inputEncoding", tString), p("outputEncoding", tString)).strict().fn(func(a []any) (any, error) {
			b, err := decodeString(a[0].(string), a[1].(string))
			if err != nil {
				return nil, err
			}
			return encodeBytes(b, a[2].(string))
		}),
	)

	registerScalar("FROM_BYTES", catString, "Converts a BYTES value to STRING in the specified encoding. The accepted encoders are 'hex', 'utf8', 'ascii', and 'base64'.",
		ov(tString, p("bytes", tBytes), p("encoding", tString)).strict().fn(func(a []any) (any, error) {
			return encodeBytes(a[0].([]byte), a[1].(string))
		}))
	registerScalar("TO_BYTES", catString, "Converts a STRING value in the specified encoding to BYTES. The accepted encoders are 'hex', 'utf8', 'ascii', and 'base64'.",
		ov(tBytes, p("str", tString), p("encoding", tString)).strict().fn(func(a []any) (any, error) {
			b, err := decodeString(a[0].(string), a[1].(string))
			if err != nil {
				return nil, err
			}
			return b, nil
		}))

	registerScalar("INITCAP", catString, "Capitalizes the first letter in each word and converts all other letters to lowercase. Words are delimited by whitespace.",
		ov(tString, p("str", tString)).strict().fn(func(a []any) (any, error) {
			var sb strings.Builder
			start := true
			for _, r := range a[0].(string) {
				switch {
				case unicode.IsSpace(r):
					start = true
					sb.WriteRune(r)
				case start:
					sb.WriteRune(unicode.ToTitle(r))
					start = false
				default:
					sb.WriteRune(unicode.ToLower(r))
				}
			}
			return sb.String(), nil
		}))

	instr := func(a []any) (any, error) {
		if a[0] == nil || a[1] == nil {
			return int32(0), nil
		}
		pos, occ := int64(1), int64(1)
		if len(a) > 2 {
			if a[2] == nil {
				return nil, nil
			}
			pos, _ = asInt(a[2])
		}
		if len(a) > 3 {
			if a[3] == nil {
				return nil, nil
			}
			occ, _ = asInt(a[3])
		}
		return int32(instrImpl([]rune(a[0].(string)), []rune(a[1].(string)), pos, occ)), nil
	}
	registerScalar("INSTR", catString, "Returns the position of substring in string. The first character is at position 1. If position is negative, the search starts from the end. Returns 0 when the substring is not found.",
		ov(tInt, p("str", tString), p("substring", tString)).fn(instr),
		ov(tInt, p("str", tString), p("substring", tString), p("position", tInt)).fn(instr),
		ov(tInt, p("str", tString), p("substring", tString), p("position", tInt), p("occurrence", tInt)).fn(instr),
	)

	registerScalar("LCASE", catString, "Converts a string to lowercase.",
		ov(tString, p("input", tString)).strict().fn(func(a []any) (any, error) { return strings.ToLower(a[0].(string)), nil }))
	registerScalar("UCASE", catString, "Converts a string to uppercase.",
		ov(tString, p("input", tString)).strict().fn(func(a []any) (any, error) { return strings.ToUpper(a[0].(string)), nil }))

	registerScalar("LEN", catString, "Returns the length of a STRING (in UTF-16 code units, as Java counts them) or the number of bytes of a BYTES value.",
		ov(tInt, p("input", tString)).strict().fn(func(a []any) (any, error) { return int32(javaLen(a[0].(string))), nil }),
		ov(tInt, p("input", tBytes)).strict().fn(func(a []any) (any, error) { return int32(len(a[0].([]byte))), nil }),
	)

	pad := func(left bool) []*overload {
		return []*overload{
			ov(tString, p("input", tString), p("length", tInt), p("padding", tString)).strict().fn(func(a []any) (any, error) {
				in, n, pd := []rune(a[0].(string)), int(a[1].(int32)), []rune(a[2].(string))
				if n < 0 || len(pd) == 0 {
					return nil, nil
				}
				return string(padRunes(in, n, pd, left)), nil
			}),
			ov(tBytes, p("input", tBytes), p("length", tInt), p("padding", tBytes)).strict().fn(func(a []any) (any, error) {
				in, n, pd := a[0].([]byte), int(a[1].(int32)), a[2].([]byte)
				if n < 0 || len(pd) == 0 {
					return nil, nil
				}
				return padBytes(in, n, pd, left), nil
			}),
		}
	}
	registerScalar("LPAD", catString, "Pads the input string or bytes, beginning from the left, with the specified padding until the target length is reached. If the input is longer than the length, it is truncated.", pad(true)...)
	registerScalar("RPAD", catString, "Pads the input string or bytes, starting from the end, with the specified padding until the target length is reached. If the input is longer than the length, it is truncated.", pad(false)...)

	registerMasks()

	registerScalar("MD5", catString, "Returns the hex-encoded MD5 hash of the input string.",
		ov(tString, p("input", tString)).strict().fn(func(a []any) (any, error) {
			sum := md5.Sum([]byte(a[0].(string)))
			return hex.EncodeToString(sum[:]), nil
		}))

	registerScalar("REPLACE", catString, "Replaces all occurrences of a substring in a string with a new substring.",
		ov(tString, p("str", tString), p("substring", tString), p("replacement", tString)).strict().fn(func(a []any) (any, error) {
			return strings.ReplaceAll(a[0].(string), a[1].(string), a[2].(string)), nil
		}))

	regexExtract := func(a []any) (any, error) {
		re, err := compileJavaRegex(a[0].(string))
		if err != nil {
			return nil, err
		}
		group := 0
		if len(a) > 2 {
			group = int(a[2].(int32))
		}
		m := re.FindStringSubmatch(a[1].(string))
		if m == nil || group < 0 || group >= len(m) {
			return nil, nil
		}
		idx := re.FindStringSubmatchIndex(a[1].(string))
		if idx[2*group] < 0 {
			return nil, nil
		}
		return m[group], nil
	}
	registerScalar("REGEXP_EXTRACT", catString, "Extracts the first substring matched by the regular expression pattern from the input. A capturing group number can be specified to return that group instead of the whole match.",
		ov(tString, p("pattern", tString), p("input", tString)).strict().fn(regexExtract),
		ov(tString, p("pattern", tString), p("input", tString), p("group", tInt)).strict().fn(regexExtract),
	)
	regexExtractAll := func(a []any) (any, error) {
		re, err := compileJavaRegex(a[0].(string))
		if err != nil {
			return nil, err
		}
		group := 0
		if len(a) > 2 {
			group = int(a[2].(int32))
		}
		out := []any{}
		for _, m := range re.FindAllStringSubmatchIndex(a[1].(string), -1) {
			if group < 0 || 2*group >= len(m) {
				return nil, nil
			}
			if m[2*group] < 0 {
				out = append(out, nil)
				continue
			}
			out = append(out, a[1].(string)[m[2*group]:m[2*group+1]])
		}
		return out, nil
	}
	registerScalar("REGEXP_EXTRACT_ALL", catString, "Extracts all substrings matched by the regular expression pattern from the input. A capturing group number can be specified to return that group instead of the whole matches.",
		ov(arrString, p("pattern", tString), p("input", tString)).strict().fn(regexExtractAll),
		ov(arrString, p("pattern", tString), p("input", tString), p("group", tInt)).strict().fn(regexExtractAll),
	)
	registerScalar("REGEXP_REPLACE", catString, "Replaces all matches of a regular expression in an input string with a new string. The replacement may refer to groups as $1 (Java syntax).",
		ov(tString, p("input", tString), p("regex", tString), p("replacement", tString)).strict().fn(func(a []any) (any, error) {
			re, err := compileJavaRegex(a[1].(string))
			if err != nil {
				return nil, err
			}
			return javaReplaceAll(re, a[0].(string), a[2].(string))
		}))
	registerScalar("REGEXP_SPLIT_TO_ARRAY", catString, "Splits a string into an array of substrings based on a regular expression. Empty matches at the beginning or end produce empty strings.",
		ov(arrString, p("string", tString), p("regexp", tString)).strict().fn(func(a []any) (any, error) {
			re, err := compileJavaRegex(a[1].(string))
			if err != nil {
				return nil, err
			}
			return javaSplit(re, a[0].(string)), nil
		}))

	registerScalar("SPLIT", catString, "Splits a string or bytes into an array of substrings based on a delimiter. If the delimiter is empty, the input is split into characters (or bytes).",
		ov(arrString, p("string", tString), p("delimiter", tString)).strict().fn(func(a []any) (any, error) {
			s, d := a[0].(string), a[1].(string)
			var parts []string
			switch {
			case s == "":
				parts = []string{""}
			case d == "":
				parts = strings.Split(s, "")
			default:
				parts = strings.Split(s, d)
			}
			out := make([]any, len(parts))
			for i, x := range parts {
				out[i] = x
			}
			return out, nil
		}),
		ov(types.ArrayOf(tBytes), p("bytes", tBytes), p("delimiter", tBytes)).strict().fn(func(a []any) (any, error) {
			s, d := a[0].([]byte), a[1].([]byte)
			var parts [][]byte
			switch {
			case len(s) == 0:
				parts = [][]byte{{}}
			case len(d) == 0:
				for i := range s {
					parts = append(parts, s[i:i+1])
				}
			default:
				parts = bytes.Split(s, d)
			}
			out := make([]any, len(parts))
			for i, x := range parts {
				out[i] = append([]byte{}, x...)
			}
			return out, nil
		}),
	)

	registerScalar("SPLIT_TO_MAP", catString, "Splits a string into key-value pairs and creates a map from them. The entryDelimiter splits the string into key-value pairs which are then split by kvDelimiter. If the same key is present multiple times in the input, the latest value for that key is returned.",
		ov(types.MapOf(tString, tString), p("input", tString), p("entryDelimiter", tString), p("kvDelimiter", tString)).strict().fn(func(a []any) (any, error) {
			in, ed, kd := a[0].(string), a[1].(string), a[2].(string)
			if ed == "" || kd == "" {
				return nil, nil
			}
			m := &types.Map{}
			for _, entry := range strings.Split(in, ed) {
				if entry == "" {
					continue
				}
				kv := strings.Split(entry, kd)
				if len(kv) < 2 {
					continue
				}
				m.Put(kv[0], kv[1])
			}
			return m, nil
		}))

	registerScalar("SUBSTRING", catString, "Returns the portion of the string or bytes from pos (1-based; negative counts from the end), optionally limited to len characters.",
		ov(tString, p("str", tString), p("pos", tInt)).strict().fn(func(a []any) (any, error) {
			r := []rune(a[0].(string))
			s := subStart(len(r), int(a[1].(int32)))
			return string(r[s:]), nil
		}),
		ov(tString, p("str", tString), p("pos", tInt), p("length", tInt)).strict().fn(func(a []any) (any, error) {
			r := []rune(a[0].(string))
			s := subStart(len(r), int(a[1].(int32)))
			return string(r[s:subEnd(len(r), s, int(a[2].(int32)))]), nil
		}),
		ov(tBytes, p("bytes", tBytes), p("pos", tInt)).strict().fn(func(a []any) (any, error) {
			b := a[0].([]byte)
			s := subStart(len(b), int(a[1].(int32)))
			return append([]byte{}, b[s:]...), nil
		}),
		ov(tBytes, p("bytes", tBytes), p("pos", tInt), p("length", tInt)).strict().fn(func(a []any) (any, error) {
			b := a[0].([]byte)
			s := subStart(len(b), int(a[1].(int32)))
			return append([]byte{}, b[s:subEnd(len(b), s, int(a[2].(int32)))]...), nil
		}),
	)

	registerScalar("TRIM", catString, "Removes the spaces and control characters from the beginning and end of a string (Java's String.trim).",
		ov(tString, p("input", tString)).strict().fn(func(a []any) (any, error) {
			return strings.TrimFunc(a[0].(string), func(r rune) bool { return r <= ' ' }), nil
		}))

	registerScalar("UUID", catString, "Returns a randomly generated (type 4) UUID, or the UUID string of 16 bytes.",
		ov(tString).fn(func([]any) (any, error) {
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return nil, err
			}
			b[6] = (b[6] & 0x0f) | 0x40
			b[8] = (b[8] & 0x3f) | 0x80
			return formatUUID(b[:]), nil
		}),
		ov(tString, p("bytes", tBytes)).strict().fn(func(a []any) (any, error) {
			b := a[0].([]byte)
			if len(b) != 16 {
				return nil, nil
			}
			return formatUUID(b), nil
		}),
	)
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func javaLen(s string) int {
	n := 0
	for _, r := range s {
		if l := utf16.RuneLen(r); l > 0 {
			n += l
		} else {
			n++ // invalid UTF-8 decodes to one replacement character
		}
	}
	return n
}

// subStart and subEnd are ksqlDB's Substring index arithmetic: pos <= 0 counts from the end
// (0 behaves like 1), out-of-range positions clamp.
func subStart(n, pos int) int {
	if pos < 0 {
		return max(n+pos, 0)
	}
	return max(min(pos-1, n), 0)
}

func subEnd(n, start, length int) int {
	return max(min(start+length, n), start)
}

// instrImpl finds the occurrence-th match of sub in str starting at the 1-based position pos;
// a negative position counts from the end and searches backwards.
func instrImpl(str, sub []rune, pos, occ int64) int {
	n := int64(len(str))
	if pos == 0 || occ <= 0 || abs64(pos) > n {
		return 0
	}
	match := func(i int64) bool {
		if i < 0 || i+int64(len(sub)) > n {
			return false
		}
		for j := range sub {
			if str[i+int64(j)] != sub[j] {
				return false
			}
		}
		return true
	}
	if pos > 0 {
		for i := pos - 1; i <= n-int64(len(sub)); i++ {
			if match(i) {
				occ--
				if occ == 0 {
					return int(i + 1)
				}
			}
		}
		return 0
	}
	// Backwards: the match must start at or before position n+pos (0-based n+pos).
	for i := min(n+pos, n-int64(len(sub))); i >= 0; i-- {
		if match(i) {
			occ--
			if occ == 0 {
				return int(i + 1)
			}
		}
	}
	return 0
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func padRunes(in []rune, n int, pd []rune, left bool) []rune {
	if len(in) >= n {
		return in[:n]
	}
	fill := make([]rune, 0, n-len(in))
	for len(fill) < n-len(in) {
		fill = append(fill, pd[len(fill)%len(pd)])
	}
	if left {
		return append(fill, in...)
	}
	return append(append([]rune{}, in...), fill...)
}

func padBytes(in []byte, n int, pd []byte, left bool) []byte {
	if len(in) >= n {
		return append([]byte{}, in[:n]...)
	}
	fill := make([]byte, 0, n)
	for len(fill) < n-len(in) {
		fill = append(fill, pd[len(fill)%len(pd)])
	}
	if left {
		return append(fill, in...)
	}
	return append(append([]byte{}, in...), fill...)
}

// Encodings shared by ENCODE, TO_BYTES and FROM_BYTES.

var errEncoding = fmt.Errorf("Supported input and output encodings are: hex, utf8, ascii and base64")

func decodeString(s, enc string) ([]byte, error) {
	switch strings.ToLower(enc) {
	case "hex":
		// Java's Hex decoder accepts an optional 0x/X'' wrapper; odd lengths are invalid.
		t := s
		if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
			t = t[2:]
		} else if (strings.HasPrefix(t, "X'") || strings.HasPrefix(t, "x'")) && strings.HasSuffix(t, "'") && len(t) >= 3 {
			t = t[2 : len(t)-1]
		}
		if len(t)%2 == 1 {
			t = "0" + t
		}
		b, err := hex.DecodeString(t)
		if err != nil {
			return nil, fmt.Errorf("Failed to decode hex string: %v", err)
		}
		return b, nil
	case "utf8":
		return []byte(s), nil
	case "ascii":
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 127 {
				out = append(out, '?')
			} else {
				out = append(out, byte(r))
			}
		}
		return out, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(s)
		}
		if err != nil {
			return nil, fmt.Errorf("Failed to decode base64 string: %v", err)
		}
		return b, nil
	}
	return nil, errEncoding
}

func encodeBytes(b []byte, enc string) (any, error) {
	switch strings.ToLower(enc) {
	case "hex":
		return hex.EncodeToString(b), nil
	case "utf8":
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	case "ascii":
		out := make([]rune, len(b))
		for i, c := range b {
			if c > 127 {
				out[i] = '\uFFFD'
			} else {
				out[i] = rune(c)
			}
		}
		return string(out), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return nil, errEncoding
}

// Masking.

type masker struct{ upper, lower, digit, other rune } // -1: keep the character

func (m masker) mask(r rune) rune {
	var c rune
	switch {
	case unicode.IsUpper(r):
		c = m.upper
	case unicode.IsLower(r):
		c = m.lower
	case unicode.IsDigit(r):
		c = m.digit
	default:
		c = m.other
	}
	if c < 0 {
		return r
	}
	return c
}

func maskerFrom(a []any) masker {
	m := masker{'X', 'x', 'n', '-'}
	if len(a) == 4 {
		pick := func(v any) rune {
			s, ok := v.(string)
			if !ok || s == "" {
				return -1
			}
			r, _ := utf8.DecodeRuneInString(s)
			return r
		}
		m = masker{pick(a[0]), pick(a[1]), pick(a[2]), pick(a[3])}
	}
	return m
}

func registerMasks() {
	repl := []param{p("upper", tString), p("lower", tString), p("digit", tString), p("other", tString)}
	withRepl := func(ret *types.Type, base ...param) *overload { return ov(ret, append(base, repl...)...) }

	maskAll := func(a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		m := maskerFrom(a[1:])
		r := []rune(a[0].(string))
		for i := range r {
			r[i] = m.mask(r[i])
		}
		return string(r), nil
	}
	registerScalar("MASK", catString, "Returns a masked version of the input string. All characters of the input will be replaced according to the default masking rules: upper-case with 'X', lower-case with 'x', digits with 'n' and others with '-'. Optional replacement characters (NULL to leave a class unmasked) can be given.",
		ov(tString, p("input", tString)).fn(maskAll),
		withRepl(tString, p("input", tString)).fn(maskAll),
	)
	// region masks: keep(left/right) or mask(left/right) n characters.
	region := func(name, desc string, maskIdx func(i, n, length int) bool) {
		f := func(a []any) (any, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			n := int(a[1].(int32))
			if n < 0 {
				return nil, fmt.Errorf("function %s requires a non-negative number of characters", strings.ToLower(name))
			}
			m := maskerFrom(a[2:])
			r := []rune(a[0].(string))
			for i := range r {
				if maskIdx(i, n, len(r)) {
					r[i] = m.mask(r[i])
				}
			}
			return string(r), nil
		}
		registerScalar(name, catString, desc,
			ov(tString, p("input", tString), p("numChars", tInt)).fn(f),
			withRepl(tString, p("input", tString), p("numChars", tInt)).fn(f),
		)
	}
	region("MASK_KEEP_LEFT", "Returns a masked version of the input string. All characters except for the first n will be masked.",
		func(i, n, _ int) bool { return i >= n })
	region("MASK_KEEP_RIGHT", "Returns a masked version of the input string. All characters except for the last n will be masked.",
		func(i, n, l int) bool { return i < l-n })
	region("MASK_LEFT", "Returns a masked version of the input string. The first n characters will be masked.",
		func(i, n, _ int) bool { return i < n })
	region("MASK_RIGHT", "Returns a masked version of the input string. The last n characters will be masked.",
		func(i, n, l int) bool { return i >= l-n })
}

// Java regular expressions on RE2. Most patterns used in practice share syntax; constructs RE2
// lacks (look-around, back-references, possessive quantifiers) fail with an error, which
// ksqlDB would not raise. Compiled patterns are cached since they are nearly always literals.

var (
	regexCacheMu sync.Mutex
	regexCache   = map[string]*regexp.Regexp{}
)

func compileJavaRegex(pattern string) (*regexp.Regexp, error) {
	regexCacheMu.Lock()
	re, ok := regexCache[pattern]
	regexCacheMu.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("Invalid regular expression pattern: %s: %v", pattern, err)
	}
	regexCacheMu.Lock()
	if len(regexCache) > 1024 {
		regexCache = map[string]*regexp.Regexp{}
	}
	regexCache[pattern] = re
	regexCacheMu.Unlock()
	return re, nil
}

// javaReplaceAll is Matcher.replaceAll: $n and ${name} refer to groups, backslash escapes the
// next character.
func javaReplaceAll(re *regexp.Regexp, s, repl string) (any, error) {
	var sb strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		sb.WriteString(s[last:m[0]])
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			switch c {
			case '\\':
				i++
				if i >= len(repl) {
					return nil, fmt.Errorf("character to be escaped is missing")
				}
				sb.WriteByte(repl[i])
			case '$':
				i++
				if i >= len(repl) {
					return nil, fmt.Errorf("Illegal group reference: group index is missing")
				}
				if repl[i] == '{' {
					end := strings.IndexByte(repl[i:], '}')
					if end < 0 {
						return nil, fmt.Errorf("named capturing group is missing trailing '}'")
					}
					name := repl[i+1 : i+end]
					gi := re.SubexpIndex(name)
					if gi < 0 {
						return nil, fmt.Errorf("No group with name {%s}", name)
					}
					if m[2*gi] >= 0 {
						sb.WriteString(s[m[2*gi]:m[2*gi+1]])
					}
					i += end
					continue
				}
				if repl[i] < '0' || repl[i] > '9' {
					return nil, fmt.Errorf("Illegal group reference")
				}
				g := int(repl[i] - '0')
				// Java takes further digits while the group number stays valid.
				for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
					ng := g*10 + int(repl[i+1]-'0')
					if ng > re.NumSubexp() {
						break
					}
					g = ng
					i++
				}
				if g > re.NumSubexp() {
					return nil, fmt.Errorf("No group %d", g)
				}
				if m[2*g] >= 0 {
					sb.WriteString(s[m[2*g]:m[2*g+1]])
				}
			default:
				sb.WriteByte(c)
			}
		}
		last = m[1]
	}
	sb.WriteString(s[last:])
	return sb.String(), nil
}

// javaSplit is Pattern.split(input, -1): trailing empty strings are kept, and a zero-width
// match at the start does not produce a leading empty string.
func javaSplit(re *regexp.Regexp, s string) []any {
	out := []any{}
	last := 0
	for _, m := range re.FindAllStringIndex(s, -1) {
		if m[1] == 0 && m[0] == 0 {
			continue
		}
		if m[0] == m[1] && m[0] == len(s) {
			continue
		}
		out = append(out, s[last:m[0]])
		last = m[1]
	}
	out = append(out, s[last:])
	return out
}
