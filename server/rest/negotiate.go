package rest

import (
	"mime"
	"strconv"
	"strings"
)

// Media types of the ksqlDB REST API (KSQL_FACTS A.0).
const (
	mediaKsqlV1    = "application/vnd.ksql.v1+json"
	mediaJSON      = "application/json"
	mediaDelimited = "application/vnd.ksqlapi.delimited.v1"
	mediaKsqlV1Any = "application/vnd.ksql+json" // unversioned: means the latest version
)

// negotiate picks the response media type for an Accept header from offered, whose first
// element is the default (used when Accept is empty or only wildcards match best). It returns
// "" when the header names types and none of them is offered (HTTP 406).
//
// Each Accept entry may carry a q-value; an offered type takes the q of the most specific range
// that matches it, the highest q wins, and ties go to the more specific match, then to the
// order of offered. "*/*" and "application/*" match any offered type with
// their q. "application/vnd.ksql+json" is the unversioned ksqlDB type and means v1.
func negotiate(accept string, offered []string) string {
	accept = strings.TrimSpace(accept)
	if accept == "" {
		return offered[0]
	}
	// For each offered type: the q and specificity of the most specific range matching it.
	type match struct {
		q    float64
		spec int // 0 none, 1 */*, 2 type/*, 3 exact
	}
	m := make([]match, len(offered))
	for part := range strings.SplitSeq(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			// Tolerate sloppy headers the way most servers do: use the bare type.
			mt = strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
			params = nil
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v <= 1 {
				q = v
			}
		}
		if mt == mediaKsqlV1Any {
			mt = mediaKsqlV1
		}
		for i, o := range offered {
			spec := matchMedia(mt, o)
			if spec > m[i].spec || (spec == m[i].spec && spec > 0 && q > m[i].q) {
				m[i] = match{q: q, spec: spec}
			}
		}
	}
	best := -1
	for i, x := range m {
		if x.spec == 0 || x.q <= 0 { // q = 0 means "not acceptable"
			continue
		}
		if best < 0 || x.q > m[best].q || (x.q == m[best].q && x.spec > m[best].spec) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return offered[best]
}

// matchMedia reports how specifically the Accept range pattern matches mt: 3 exact, 2 type/*,
// 1 */*, 0 no match.
func matchMedia(pattern, mt string) int {
	switch {
	case pattern == mt:
		return 3
	case pattern == "*/*":
		return 1
	case strings.HasSuffix(pattern, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(pattern, "*")):
		return 2
	}
	return 0
}
