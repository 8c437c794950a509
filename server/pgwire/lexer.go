package pgwire

import (
	"errors"
	"strings"
)

// The wire layer needs a little lexical knowledge of SQL that the engine's parser does not
// provide: where statements end, where $n placeholders are (outside strings and comments), and
// enough tokens to recognise session statements and psql's catalog queries. It accepts both
// the PostgreSQL and the ksqlDB spellings: "x" and `x` identifiers, '' and E'' strings,
// $$dollar$$ strings, -- and nested /* */ comments.

type tokKind uint8

const (
	tkIdent  tokKind = iota // bare word; compare with is()
	tkQIdent                // "x" or `x`; val is the unquoted name
	tkString                // 'x', E'x', $$x$$; val is the unescaped content
	tkNumber
	tkParam // $n; val is n
	tkOp    // operators: = <> != <= >= :: || ~ ...
	tkPunct // ( ) , ; . [ ]
)

type token struct {
	kind       tokKind
	start, end int // byte offsets in the source text
	val        string
}

// is reports whether t is the bare keyword or identifier kw (case-insensitive).
func (t token) is(kw string) bool { return t.kind == tkIdent && strings.EqualFold(t.val, kw) }

// isP reports whether t is the punctuation or operator p.
func (t token) isP(p string) bool { return (t.kind == tkPunct || t.kind == tkOp) && t.val == p }

// name returns an identifier's name as the engine stores it: quoted names as written, bare
// names upper-cased (ksqlDB folds to upper case).
func (t token) name() string {
	if t.kind == tkQIdent {
		return t.val
	}
	return strings.ToUpper(t.val)
}

var errUnterminated = errors.New("unterminated quoted string or comment")

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

const opChars = "+-*/<>=~!@#%^&|?:"

// lex tokenizes text. It fails only on unterminated strings, quoted identifiers or comments.
func lex(text string) ([]token, error) {
	toks := make([]token, 0, 16)
	i, n := 0, len(text)
	for i < n {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && text[i+1] == '-':
			for i < n && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && text[i+1] == '*':
			depth, j := 1, i+2
			for j < n && depth > 0 {
				switch {
				case text[j] == '/' && j+1 < n && text[j+1] == '*':
					depth++
					j += 2
				case text[j] == '*' && j+1 < n && text[j+1] == '/':
					depth--
					j += 2
				default:
					j++
				}
			}
			if depth > 0 {
				return toks, errUnterminated
			}
			i = j
		case c == '\'':
			s, j, err := scanQuoted(text, i, '\'', false)
			if err != nil {
				return toks, err
			}
			toks = append(toks, token{tkString, i, j, s})
			i = j
		case (c == 'E' || c == 'e') && i+1 < n && text[i+1] == '\'':
			s, j, err := scanQuoted(text, i+1, '\'', true)
			if err != nil {
				return toks, err
			}
			toks = append(toks, token{tkString, i, j, s})
			i = j
		case c == '"' || c == '`':
			s, j, err := scanQuoted(text, i, c, false)
			if err != nil {
				return toks, err
			}
			toks = append(toks, token{tkQIdent, i, j, s})
			i = j
		case c == '$' && i+1 < n && isDigit(text[i+1]):
			j := i + 1
			for j < n && isDigit(text[j]) {
				j++
			}
			toks = append(toks, token{tkParam, i, j, text[i+1 : j]})
			i = j
		case c == '$':
			// Dollar-quoted string $tag$...$tag$.
			j := i + 1
			for j < n && text[j] != '$' && isIdentChar(text[j]) {
				j++
			}
			if j >= n || text[j] != '$' {
				toks = append(toks, token{tkOp, i, i + 1, "$"})
				i++
				continue
			}
			tag := text[i : j+1]
			end := strings.Index(text[j+1:], tag)
			if end < 0 {
				return toks, errUnterminated
			}
			toks = append(toks, token{tkString, i, j + 1 + end + len(tag), text[j+1 : j+1+end]})
			i = j + 1 + end + len(tag)
		case isDigit(c) || c == '.' && i+1 < n && isDigit(text[i+1]):
			j := i
			for j < n && (isDigit(text[j]) || text[j] == '.') {
				j++
			}
			if j < n && (text[j] == 'e' || text[j] == 'E') {
				k := j + 1
				if k < n && (text[k] == '+' || text[k] == '-') {
					k++
				}
				if k < n && isDigit(text[k]) {
					for k < n && isDigit(text[k]) {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{tkNumber, i, j, text[i:j]})
			i = j
		case isIdentStart(c):
			j := i
			for j < n && isIdentChar(text[j]) {
				j++
			}
			toks = append(toks, token{tkIdent, i, j, text[i:j]})
			i = j
		case strings.IndexByte("(),;.[]{}", c) >= 0:
			toks = append(toks, token{tkPunct, i, i + 1, text[i : i+1]})
			i++
		case strings.IndexByte(opChars, c) >= 0:
			j := i + 1
			if j < n {
				switch two := text[i : i+2]; two {
				case "<=", ">=", "<>", "!=", "::", "||", "->", "=>", "!~", "~~", "~*":
					j = i + 2
				}
			}
			toks = append(toks, token{tkOp, i, j, text[i:j]})
			i = j
		default:
			toks = append(toks, token{tkOp, i, i + 1, text[i : i+1]})
			i++
		}
	}
	return toks, nil
}

// scanQuoted reads a quoted token starting at text[i] == q. A doubled quote is an escaped
// quote; with backslash (E” strings) \n, \t, \\ and \' are escapes too.
func scanQuoted(text string, i int, q byte, backslash bool) (string, int, error) {
	var sb strings.Builder
	j := i + 1
	for j < len(text) {
		c := text[j]
		switch {
		case backslash && c == '\\' && j+1 < len(text):
			switch e := text[j+1]; e {
			case 'n':
				sb.WriteByte('\n')
			case 't':
				sb.WriteByte('\t')
			case 'r':
				sb.WriteByte('\r')
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			default:
				sb.WriteByte(e)
			}
			j += 2
		case c == q:
			if j+1 < len(text) && text[j+1] == q {
				sb.WriteByte(q)
				j += 2
				continue
			}
			return sb.String(), j + 1, nil
		default:
			sb.WriteByte(c)
			j++
		}
	}
	return "", j, errUnterminated
}

// piece is one statement of a Query string and its byte offset in it.
type piece struct {
	text   string
	offset int
}

// splitLexical splits text at top-level semicolons. Each piece keeps its ';'. Pieces holding
// only comments or whitespace are dropped.
func splitLexical(text string) ([]piece, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	var out []piece
	start := -1
	for _, t := range toks {
		if start < 0 {
			if t.isP(";") {
				continue
			}
			start = t.start
		}
		if t.isP(";") {
			out = append(out, piece{text[start:t.end], start})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, piece{strings.TrimRight(text[start:], " \t\r\n"), start})
	}
	return out, nil
}

// stripSemi drops trailing semicolons from tokens.
func stripSemi(toks []token) []token {
	for len(toks) > 0 && toks[len(toks)-1].isP(";") {
		toks = toks[:len(toks)-1]
	}
	return toks
}

// normalizeSpace collapses runs of whitespace into one space and trims, for matching known
// client query text.
func normalizeSpace(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			space = true
			continue
		}
		if space && sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		space = false
		sb.WriteByte(c)
	}
	return strings.TrimSuffix(sb.String(), ";")
}
