package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/sluicedb/sluice/exec/engine"
	"github.com/sluicedb/sluice/sql/types"
)

// The engine has no placeholders: $n parameters are substituted into the statement text as SQL
// literals after Bind. That makes quoting the security boundary of the extended protocol, so
// every value goes through literal(), which either quotes it as a string or re-formats a parsed
// number; raw client text is never pasted in.

// paramCount returns the highest $n in toks.
func paramCount(toks []token) int {
	max := 0
	for _, t := range toks {
		if t.kind == tkParam {
			if n, err := strconv.Atoi(t.val); err == nil && n > max {
				max = n
			}
		}
	}
	return max
}

// pgTypeOIDs maps type names found in casts to OIDs.
var pgTypeOIDs = map[string]uint32{
	"bool": oidBool, "boolean": oidBool,
	"int2": oidInt2, "smallint": oidInt2,
	"int": oidInt4, "int4": oidInt4, "integer": oidInt4,
	"int8": oidInt8, "bigint": oidInt8,
	"float4": oidFloat4, "real": oidFloat4,
	"float8": oidFloat8, "double": oidFloat8, "float": oidFloat8,
	"numeric": oidNumeric, "decimal": oidNumeric,
	"text": oidText, "varchar": oidVarchar, "string": oidText, "char": oidBpchar,
	"bytea": oidBytea, "bytes": oidBytea,
	"date": oidDate, "time": oidTime, "timestamp": oidTimestamp, "timestamptz": oidTimestamptz,
	"json": oidJSON, "jsonb": oidJSONB, "uuid": oidUUID,
}

// inferParamTypes fills in the OIDs the client left as 0 (or did not send). The inference is
// lexical: a cast ($1::int8, CAST($1 AS BIGINT)), a comparison with a column of a named source
// (id = $1), LIMIT $1, or a position in INSERT ... (cols) VALUES (...). Anything else is text.
func inferParamTypes(toks []token, given []uint32, sources func() []*engine.SourceSummary) []uint32 {
	n := paramCount(toks)
	if len(given) > n {
		n = len(given)
	}
	out := make([]uint32, n)
	copy(out, given)
	need := false
	for _, o := range out {
		if o == 0 {
			need = true
		}
	}
	if !need {
		return out
	}
	var cols map[string]*types.Type
	if n > 0 {
		cols = columnTypes(toks, sources())
	}
	set := func(idx int, oid uint32) {
		if idx >= 1 && idx <= n && out[idx-1] == 0 {
			out[idx-1] = oid
		}
	}
	colOID := func(t token) (uint32, bool) {
		if t.kind != tkIdent && t.kind != tkQIdent {
			return 0, false
		}
		if typ, ok := cols[t.name()]; ok {
			return typeOID(typ), true
		}
		return 0, false
	}
	isCmp := func(t token) bool {
		if t.kind != tkOp {
			return false
		}
		switch t.val {
		case "=", "<>", "!=", "<", ">", "<=", ">=":
			return true
		}
		return false
	}
	for i, t := range toks {
		if t.kind != tkParam {
			continue
		}
		idx, _ := strconv.Atoi(t.val)
		// $1::type
		if i+2 < len(toks) && toks[i+1].isP("::") {
			if oid, ok := pgTypeOIDs[strings.ToLower(toks[i+2].val)]; ok {
				set(idx, oid)
				continue
			}
		}
		// CAST($1 AS type)
		if i >= 2 && i+2 < len(toks) && toks[i-1].isP("(") && toks[i-2].is("CAST") && toks[i+1].is("AS") {
			if oid, ok := pgTypeOIDs[strings.ToLower(toks[i+2].val)]; ok {
				set(idx, oid)
				continue
			}
		}
		if i >= 1 && (toks[i-1].is("LIMIT") || toks[i-1].is("OFFSET")) {
			set(idx, oidInt8)
			continue
		}
		// col op $1
		if i >= 2 && isCmp(toks[i-1]) {
			if oid, ok := colOID(toks[i-2]); ok {
				set(idx, oid)
				continue
			}
		}
		// $1 op col
		if i+2 < len(toks) && isCmp(toks[i+1]) {
			if oid, ok := colOID(toks[i+2]); ok {
				set(idx, oid)
				continue
			}
		}
		// col IN ($1, $2) / col BETWEEN $1 AND $2
		for j := i - 1; j >= 1 && j >= i-8; j-- {
			if toks[j].is("IN") || toks[j].is("BETWEEN") {
				if oid, ok := colOID(toks[j-1]); ok {
					set(idx, oid)
				}
				break
			}
			if !(toks[j].kind == tkParam || toks[j].isP(",") || toks[j].isP("(") || toks[j].is("AND")) {
				break
			}
		}
	}
	inferInsertParams(toks, cols, set)
	for i := range out {
		if out[i] == 0 {
			out[i] = oidText
		}
	}
	return out
}

// inferInsertParams handles INSERT INTO s (a, b) VALUES ($1, $2).
func inferInsertParams(toks []token, cols map[string]*types.Type, set func(int, uint32)) {
	if len(toks) < 4 || !toks[0].is("INSERT") {
		return
	}
	i := 3
	if i >= len(toks) || !toks[i].isP("(") {
		return
	}
	var names []string
	for i++; i < len(toks) && !toks[i].isP(")"); i++ {
		if toks[i].kind == tkIdent || toks[i].kind == tkQIdent {
			names = append(names, toks[i].name())
		}
	}
	for ; i < len(toks) && !toks[i].isP("("); i++ {
	}
	pos := 0
	for i++; i < len(toks) && !toks[i].isP(")"); i++ {
		switch {
		case toks[i].isP(","):
			pos++
		case toks[i].kind == tkParam && pos < len(names):
			if typ, ok := cols[names[pos]]; ok {
				idx, _ := strconv.Atoi(toks[i].val)
				set(idx, typeOID(typ))
			}
		}
	}
}

// columnTypes collects the column types of the sources named after FROM, JOIN or INTO (all
// sources when none is named).
func columnTypes(toks []token, sources []*engine.SourceSummary) map[string]*types.Type {
	named := map[string]bool{}
	for i, t := range toks {
		if (t.is("FROM") || t.is("JOIN") || t.is("INTO")) && i+1 < len(toks) {
			named[toks[i+1].name()] = true
		}
	}
	cols := map[string]*types.Type{}
	for _, s := range sources {
		if s.Schema == nil || (len(named) > 0 && !named[s.Name]) {
			continue
		}
		for _, c := range s.Schema.Columns {
			if _, dup := cols[c.Name]; !dup {
				cols[c.Name] = c.Type
			}
		}
	}
	return cols
}

// paramLiteral decodes one bound parameter (text or binary, per its OID) and renders it as a
// SQL literal. A nil value is NULL.
func paramLiteral(oid uint32, format int16, v []byte) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	if format == 1 {
		return binaryParamLiteral(oid, v)
	}
	s := string(v)
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOid:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return "", invalidInput(oid, s)
		}
		return strconv.FormatInt(n, 10), nil
	case oidFloat4, oidFloat8:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return "", invalidInput(oid, s)
		}
		return floatLiteral(f), nil
	case oidNumeric:
		d, err := decimal.NewFromString(strings.TrimSpace(s))
		if err != nil {
			return "", invalidInput(oid, s)
		}
		return d.String(), nil
	case oidBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "y", "yes", "on", "1":
			return "TRUE", nil
		case "f", "false", "n", "no", "off", "0":
			return "FALSE", nil
		}
		return "", invalidInput(oid, s)
	case oidBytea:
		if b, ok := strings.CutPrefix(s, `\x`); ok {
			if _, err := hex.DecodeString(b); err != nil {
				return "", invalidInput(oid, s)
			}
			return "TO_BYTES(" + quoteString(b) + ", 'hex')", nil
		}
		return "TO_BYTES(" + quoteString(hex.EncodeToString(v)) + ", 'hex')", nil
	}
	return quoteString(s), nil
}

func binaryParamLiteral(oid uint32, v []byte) (string, error) {
	bad := func() (string, error) {
		return "", &pgError{code: "22P03", msg: fmt.Sprintf("incorrect binary data format in bind parameter (type oid %d, %d bytes)", oid, len(v))}
	}
	switch oid {
	case oidBool:
		if len(v) != 1 {
			return bad()
		}
		if v[0] != 0 {
			return "TRUE", nil
		}
		return "FALSE", nil
	case oidInt2:
		if len(v) != 2 {
			return bad()
		}
		return strconv.Itoa(int(int16(binary.BigEndian.Uint16(v)))), nil
	case oidInt4:
		if len(v) != 4 {
			return bad()
		}
		return strconv.Itoa(int(int32(binary.BigEndian.Uint32(v)))), nil
	case oidInt8:
		if len(v) != 8 {
			return bad()
		}
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10), nil
	case oidOid:
		if len(v) != 4 {
			return bad()
		}
		return strconv.FormatUint(uint64(binary.BigEndian.Uint32(v)), 10), nil
	case oidFloat4:
		if len(v) != 4 {
			return bad()
		}
		return floatLiteral(float64(math.Float32frombits(binary.BigEndian.Uint32(v)))), nil
	case oidFloat8:
		if len(v) != 8 {
			return bad()
		}
		return floatLiteral(math.Float64frombits(binary.BigEndian.Uint64(v))), nil
	case oidNumeric:
		s, err := decodeNumericBinary(v)
		if err != nil {
			return bad()
		}
		if s == "NaN" {
			return "NULL", nil
		}
		return s, nil
	case oidBytea:
		return "TO_BYTES(" + quoteString(hex.EncodeToString(v)) + ", 'hex')", nil
	case oidDate:
		if len(v) != 4 {
			return bad()
		}
		days := int64(int32(binary.BigEndian.Uint32(v))) + pgEpochDays
		return quoteString(time.UnixMilli(days * 86400000).UTC().Format("2006-01-02")), nil
	case oidTime:
		if len(v) != 8 {
			return bad()
		}
		us := int64(binary.BigEndian.Uint64(v))
		return quoteString(time.UnixMicro(us).UTC().Format("15:04:05.000")), nil
	case oidTimestamp, oidTimestamptz:
		if len(v) != 8 {
			return bad()
		}
		us := int64(binary.BigEndian.Uint64(v)) + pgEpochMs*1000
		return quoteString(time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000")), nil
	case oidUUID:
		if len(v) != 16 {
			return bad()
		}
		h := hex.EncodeToString(v)
		return quoteString(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]), nil
	case oidJSONB:
		if len(v) > 0 && v[0] == 1 {
			v = v[1:]
		}
	}
	return quoteString(string(v)), nil
}

func floatLiteral(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "NULL"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

func invalidInput(oid uint32, s string) error {
	return &pgError{code: "22P02", msg: fmt.Sprintf("invalid input syntax for type %s: %q", pgTypeNameOf(oid), s)}
}

func pgTypeNameOf(oid uint32) string {
	switch oid {
	case oidBool:
		return "boolean"
	case oidInt2:
		return "smallint"
	case oidInt4:
		return "integer"
	case oidInt8:
		return "bigint"
	case oidOid:
		return "oid"
	case oidFloat4:
		return "real"
	case oidFloat8:
		return "double precision"
	case oidNumeric:
		return "numeric"
	case oidBytea:
		return "bytea"
	}
	return strconv.Itoa(int(oid))
}

// quoteString renders s as a SQL string literal (” doubles a quote; backslashes are literal in
// both ksqlDB and standard_conforming_strings PostgreSQL).
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// substituteParams replaces each $n token in text with lits[n-1].
func substituteParams(text string, toks []token, lits []string) (string, error) {
	var sb strings.Builder
	last := 0
	for _, t := range toks {
		if t.kind != tkParam {
			continue
		}
		idx, err := strconv.Atoi(t.val)
		if err != nil || idx < 1 || idx > len(lits) {
			return "", &pgError{code: "42P02", msg: fmt.Sprintf("there is no parameter $%s", t.val)}
		}
		sb.WriteString(text[last:t.start])
		sb.WriteString(lits[idx-1])
		last = t.end
	}
	if last == 0 {
		return text, nil
	}
	sb.WriteString(text[last:])
	return sb.String(), nil
}

// placeholderLiteral is a stand-in used to describe a statement before its parameters are
// known.
func placeholderLiteral(oid uint32) string {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidOid, oidNumeric:
		return "1"
	case oidFloat4, oidFloat8:
		return "1.0"
	case oidBool:
		return "TRUE"
	case oidText, oidVarchar, oidBpchar, oidUnknown, oidName:
		return "''"
	}
	return "NULL"
}
