package functions

import (
	"net/url"
	"strconv"
	"strings"
)

// URL functions: java.net.URI parsing as ksqlDB does it, NULL for unparsable input or a
// missing part (except URL_EXTRACT_PATH, which gives the empty string as URI.getPath does).

const catURL = "URL"

func parseURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return nil
	}
	return u
}

// javaURLEncode is java.net.URLEncoder.encode(s, UTF-8): letters, digits and ".-*_" stay,
// space becomes '+', every other byte is %XX with upper-case hex.
func javaURLEncode(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '-' || c == '*' || c == '_':
			sb.WriteByte(c)
		case c == ' ':
			sb.WriteByte('+')
		default:
			sb.WriteByte('%')
			sb.WriteString(strings.ToUpper(strconv.FormatInt(int64(c)>>4, 16)))
			sb.WriteString(strings.ToUpper(strconv.FormatInt(int64(c)&15, 16)))
		}
	}
	return sb.String()
}

func urlPart(name, desc string, get func(u *url.URL) any) {
	registerScalar(name, catURL, desc,
		ov(tString, p("input", tString)).strict().fn(func(a []any) (any, error) {
			u := parseURL(a[0].(string))
			if u == nil {
				return nil, nil
			}
			return get(u), nil
		}))
}

func init() {
	registerScalar("URL_DECODE_PARAM", catURL, "Unescapes the URL-param-encoded value. This is the inverse of URL_ENCODE_PARAM.",
		ov(tString, p("input", tString)).strict().fn(func(a []any) (any, error) {
			s, err := url.QueryUnescape(a[0].(string))
			if err != nil {
				return nil, nil
			}
			return s, nil
		}))
	registerScalar("URL_ENCODE_PARAM", catURL, "Escapes the input value so that it can be safely used as a URL query parameter (application/x-www-form-urlencoded, as Java's URLEncoder).",
		ov(tString, p("input", tString)).strict().fn(func(a []any) (any, error) {
			return javaURLEncode(a[0].(string)), nil
		}))

	urlPart("URL_EXTRACT_FRAGMENT", "Extracts the fragment portion of the specified value. Returns NULL if the input is not a valid URL or if it has no fragment.",
		func(u *url.URL) any {
			if u.Fragment == "" && !strings.Contains(u.String(), "#") {
				return nil
			}
			return u.Fragment
		})
	urlPart("URL_EXTRACT_HOST", "Extracts the host-name portion of the specified value. Returns NULL if the input is not a valid URL or has no host.",
		func(u *url.URL) any {
			if u.Host == "" {
				return nil
			}
			return u.Hostname()
		})
	urlPart("URL_EXTRACT_PATH", "Extracts the path from the specified URL; the empty string if it has none. Returns NULL if the input is not a valid URL.",
		func(u *url.URL) any {
			if u.Opaque != "" {
				return nil
			}
			return u.Path
		})
	registerScalar("URL_EXTRACT_PORT", catURL, "Extracts the port number from the specified URL. Returns NULL if the input is not a valid URL or has no port.",
		ov(tInt, p("input", tString)).strict().fn(func(a []any) (any, error) {
			u := parseURL(a[0].(string))
			if u == nil || u.Port() == "" {
				return nil, nil
			}
			n, err := strconv.Atoi(u.Port())
			if err != nil {
				return nil, nil
			}
			return int32(n), nil
		}))
	urlPart("URL_EXTRACT_PROTOCOL", "Extracts the protocol (scheme) from the specified URL. Returns NULL if the input is not a valid absolute URL.",
		func(u *url.URL) any {
			if u.Scheme == "" {
				return nil
			}
			return u.Scheme
		})
	urlPart("URL_EXTRACT_QUERY", "Extracts the decoded query string from the specified URL. Returns NULL if the input is not a valid URL or has no query.",
		func(u *url.URL) any {
			if u.RawQuery == "" && !u.ForceQuery {
				return nil
			}
			q, err := url.PathUnescape(u.RawQuery)
			if err != nil {
				return u.RawQuery
			}
			return q
		})
	registerScalar("URL_EXTRACT_PARAMETER", catURL, "Extracts the decoded value of the named query parameter; the empty string if the parameter has no value; NULL if it is absent or the URL is invalid.",
		ov(tString, p("input", tString), p("paramToFind", tString)).strict().fn(func(a []any) (any, error) {
			u := parseURL(a[0].(string))
			if u == nil || u.RawQuery == "" {
				return nil, nil
			}
			q, err := url.PathUnescape(u.RawQuery)
			if err != nil {
				q = u.RawQuery
			}
			want := a[1].(string)
			for _, param := range strings.Split(q, "&") {
				k, v, hasV := strings.Cut(param, "=")
				if k != want {
					continue
				}
				if !hasV {
					return "", nil
				}
				return v, nil
			}
			return nil, nil
		}))
}
