package parse

import "strings"

// substitute applies ksqlDB's variable substitution to one statement's tokens. vars has
// upper-cased names. A ${name} token is replaced by the tokens of its value, all located at the
// reference so errors inside a value point at it; ${name} inside string literals is replaced
// textually and $${name} escapes a reference. Unknown names are left alone.
func substitute(toks []token, vars map[string]string) []token {
	if len(vars) == 0 {
		return toks
	}
	var out []token
	for i, t := range toks {
		switch t.kind {
		case tVariable:
			v, ok := vars[strings.ToUpper(t.val)]
			if !ok {
				break
			}
			if out == nil {
				out = append(make([]token, 0, len(toks)), toks[:i]...)
			}
			for _, vt := range lex(v) {
				if vt.kind == tEOF {
					break
				}
				vt.off, vt.end = t.off, t.end
				out = append(out, vt)
			}
			continue
		case tString:
			if strings.Contains(t.val, "${") {
				nv := substituteString(t.val, vars)
				if nv != t.val {
					if out == nil {
						out = append(make([]token, 0, len(toks)), toks[:i]...)
					}
					t.val = nv
				}
			}
		}
		if out != nil {
			out = append(out, t)
		}
	}
	if out == nil {
		return toks
	}
	return out
}

func substituteString(s string, vars map[string]string) string {
	var sb strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			sb.WriteString("${")
			i += 3
			continue
		}
		if strings.HasPrefix(s[i:], "${") {
			if j := strings.IndexByte(s[i:], '}'); j > 2 {
				if v, ok := vars[strings.ToUpper(s[i+2:i+j])]; ok {
					sb.WriteString(v)
					i += j + 1
					continue
				}
			}
		}
		sb.WriteByte(s[i])
		i++
	}
	return sb.String()
}
