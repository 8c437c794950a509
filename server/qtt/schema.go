package qtt

import (
	"strings"
	"unicode"
)

// NormalizeSchema canonicalises a logical schema string such as "ID INT KEY, `NAME` STRING" so
// that two spellings of the same schema compare equal: back-quotes removed (quoted names kept
// as written), unquoted words upper-cased, type aliases resolved (INT -> INTEGER, VARCHAR ->
// STRING), "PRIMARY KEY" -> "KEY", whitespace ignored. String literals (HEADER('k')) are kept.
func NormalizeSchema(s string) string {
	toks := schemaTokens(s)
	out := make([]string, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.quoted && !t.literal {
			switch t.text = strings.ToUpper(t.text); t.text {
			case "INT":
				t.text = "INTEGER"
			case "VARCHAR":
				t.text = "STRING"
			case "PRIMARY":
				if i+1 < len(toks) && strings.EqualFold(toks[i+1].text, "KEY") && !toks[i+1].quoted {
					continue
				}
			}
		}
		out = append(out, t.text)
	}
	// Join with a space between words only, so "STRUCT< >" and "STRUCT<>" agree.
	var sb strings.Builder
	for i, t := range out {
		if i > 0 && isWordish(out[i-1]) && isWordish(t) {
			sb.WriteByte(' ')
		}
		sb.WriteString(t)
	}
	return sb.String()
}

func isWordish(t string) bool {
	return len(t) > 0 && !strings.ContainsAny(t[:1], "<>(),")
}

type schemaToken struct {
	text    string
	quoted  bool // `name`
	literal bool // 'text'
}

func schemaTokens(s string) []schemaToken {
	var toks []schemaToken
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '`' || r == '\'':
			q := r
			var sb strings.Builder
			if r == '\'' {
				sb.WriteRune('\'')
			}
			i++
			for i < len(rs) {
				if rs[i] == q {
					if i+1 < len(rs) && rs[i+1] == q { // doubled quote escapes itself
						sb.WriteRune(q)
						i += 2
						continue
					}
					i++
					break
				}
				sb.WriteRune(rs[i])
				i++
			}
			if q == '\'' {
				sb.WriteRune('\'')
			}
			toks = append(toks, schemaToken{text: sb.String(), quoted: q == '`', literal: q == '\''})
		case strings.ContainsRune("<>(),", r):
			toks = append(toks, schemaToken{text: string(r)})
			i++
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune("<>(),`'", rs[j]) {
				j++
			}
			toks = append(toks, schemaToken{text: string(rs[i:j])})
			i = j
		}
	}
	return toks
}
