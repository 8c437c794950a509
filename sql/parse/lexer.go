package parse

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a ksql token. The lexer follows ksqlDB's SqlBase.g4 lexer rules (longest
// match, earlier rule wins a tie), so that `1e3` is a FLOAT but `1e3x` and `1R` are identifiers.
type tokKind uint8

const (
	tEOF        tokKind = iota
	tWord               // unquoted identifier or keyword; val is the upper-cased text
	tQuoted             // "ident" (val unescaped, case kept)
	tBackquoted         // `ident` (val unescaped, case kept)
	tDigitIdent         // 1R: digit-first identifier; val upper-cased
	tString             // 'text' (val unescaped)
	tInt                // 123
	tDecimal            // 1.5, .5, 1.
	tFloat              // 1e3, 1.5E-2
	tVariable           // ${name}; val is the name
	tOp                 // punctuation and operators; val is the operator text
	tError              // a lexical error; val is the message
)

// token is one lexed token. off/end are byte offsets into the full input text, which is how
// every position reported by this package is computed, even for text rewritten for TiDB.
type token struct {
	kind tokKind
	val  string
	off  int
	end  int
}

// isIdent reports whether t can name something (before keyword checks).
func (t token) isIdent() bool {
	switch t.kind {
	case tWord, tQuoted, tBackquoted, tDigitIdent:
		return true
	}
	return false
}

// is reports whether t is the word or operator s (s upper-case for words).
func (t token) is(s string) bool {
	return (t.kind == tWord || t.kind == tOp) && t.val == s
}

// lex tokenizes all of text. It never fails: problems become tError tokens so that Split can
// still find statement boundaries in bad input. Comments and whitespace are dropped.
func lex(text string) []token {
	var toks []token
	i := 0
	n := len(text)
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
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				toks = append(toks, token{kind: tError, val: "unterminated comment", off: i, end: n})
				i = n
			} else {
				i += 2 + j + 2
			}
		case isLetter(c) || c == '_':
			j := i + 1
			for j < n && isIdentChar(text[j]) {
				j++
			}
			toks = append(toks, token{kind: tWord, val: strings.ToUpper(text[i:j]), off: i, end: j})
			i = j
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(text[i+1])):
			t := lexNumber(text, i)
			toks = append(toks, t)
			i = t.end
		case c == '\'':
			t := lexQuoted(text, i, '\'', tString)
			toks = append(toks, t)
			i = t.end
		case c == '"':
			t := lexQuoted(text, i, '"', tQuoted)
			toks = append(toks, t)
			i = t.end
		case c == '`':
			t := lexQuoted(text, i, '`', tBackquoted)
			toks = append(toks, t)
			i = t.end
		case c == '$' && i+1 < n && text[i+1] == '{':
			j := i + 2
			for j < n && isIdentChar(text[j]) {
				j++
			}
			if j < n && text[j] == '}' && j > i+2 && (isLetter(text[i+2]) || text[i+2] == '_') {
				toks = append(toks, token{kind: tVariable, val: text[i+2 : j], off: i, end: j + 1})
				i = j + 1
			} else {
				toks = append(toks, token{kind: tError, val: "$", off: i, end: i + 1})
				i++
			}
		default:
			if op := lexOp(text[i:]); op != "" {
				toks = append(toks, token{kind: tOp, val: op, off: i, end: i + len(op)})
				i += len(op)
				continue
			}
			_, size := utf8.DecodeRuneInString(text[i:])
			toks = append(toks, token{kind: tError, val: text[i : i+size], off: i, end: i + size})
			i += size
		}
	}
	toks = append(toks, token{kind: tEOF, off: n, end: n})
	return toks
}

// ops lists multi-character operators first so the longest one matches.
var ops = []string{"<>", "!=", "<=", ">=", "||", ":=", "->", "=>",
	"=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", ".", ";", ":"}

func lexOp(s string) string {
	for _, op := range ops {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isIdentChar(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '_' || c == '@'
}

// lexNumber scans INTEGER_VALUE, DECIMAL_VALUE, FLOATING_POINT_VALUE or DIGIT_IDENTIFIER at i,
// taking the longest match and, on a tie, the earlier rule (numbers before identifiers).
func lexNumber(text string, i int) token {
	n := len(text)
	j := i
	for j < n && isDigit(text[j]) {
		j++
	}
	kind := tInt
	if j < n && text[j] == '.' {
		// "1." is a DECIMAL in ksql, but "t1.x" never reaches here (t1 is a word).
		kind = tDecimal
		j++
		for j < n && isDigit(text[j]) {
			j++
		}
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
			kind = tFloat
			j = k
		}
	}
	numEnd := j
	// DIGIT_IDENTIFIER: DIGIT (LETTER | DIGIT | '_' | '@')+ ; only starts with a digit and has no '.'.
	if isDigit(text[i]) {
		k := i + 1
		for k < n && isIdentChar(text[k]) {
			k++
		}
		if k > numEnd && k > i+1 {
			return token{kind: tDigitIdent, val: strings.ToUpper(text[i:k]), off: i, end: k}
		}
	}
	return token{kind: kind, val: text[i:numEnd], off: i, end: numEnd}
}

// lexQuoted scans a quoted string or identifier where a doubled quote escapes the quote.
func lexQuoted(text string, i int, q byte, kind tokKind) token {
	var sb strings.Builder
	j := i + 1
	for j < len(text) {
		c := text[j]
		if c == q {
			if j+1 < len(text) && text[j+1] == q {
				sb.WriteByte(q)
				j += 2
				continue
			}
			return token{kind: kind, val: sb.String(), off: i, end: j + 1}
		}
		sb.WriteByte(c)
		j++
	}
	what := "string"
	if kind != tString {
		what = "identifier"
	}
	return token{kind: tError, val: "unterminated quoted " + what, off: i, end: len(text)}
}

// Piece is one statement found by Split.
type Piece struct {
	// Text runs from the statement's first token to its terminating ';' inclusive (or to the
	// end of its last token when the input ends without ';').
	Text string
	// Offset is the byte offset of Text in the input.
	Offset int
	// Line and Col (1-based) locate Offset.
	Line, Col int
}

// Split cuts text into statements at top-level ';', skipping comments and whitespace between
// statements and never splitting inside quotes or comments. Empty statements are dropped.
func Split(text string) []Piece {
	toks := lex(text)
	li := newLineIndex(text)
	var out []Piece
	for _, r := range splitTokens(toks) {
		first, last := toks[r[0]], toks[r[1]-1]
		p := li.pos(first.off)
		out = append(out, Piece{Text: text[first.off:last.end], Offset: first.off, Line: p.Line, Col: p.Col})
	}
	return out
}

// splitTokens returns [start, end) token ranges of statements; end includes the ';' if any.
func splitTokens(toks []token) [][2]int {
	var out [][2]int
	start := 0
	for i, t := range toks {
		if t.kind == tEOF {
			if i > start {
				out = append(out, [2]int{start, i})
			}
			break
		}
		if t.kind == tOp && t.val == ";" {
			if i > start {
				out = append(out, [2]int{start, i + 1})
			}
			start = i + 1
		}
	}
	return out
}
