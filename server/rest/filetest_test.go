package rest

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output in testdata/rest/*.test")

// TestFiles runs the exchanges in testdata/rest/*.test against New(fakeBackend) over loopback.
// A case is
//
//	http METHOD PATH [accept=TYPE] [auth=user:pass] [h2c]
//	<request body, any number of lines>
//	----
//	<status> <content-type>
//	<response body exactly, or "<redirect> LOCATION">
//
// ending at a blank line. Lines starting with '#' between cases are comments. The server runs
// with Basic auth for user "alice" only when a case carries auth=; see serverFor. Run with
// -rewrite to regenerate expectations, then review the diff.
func TestFiles(t *testing.T) {
	files, err := filepath.Glob("../../testdata/rest/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runFile(t, f) })
	}
}

type fileCase struct {
	line             int
	directive        string
	body             []string
	expected         []string
	preamble, footer []string // comment/blank lines before the case, kept on rewrite
}

func parseFile(t *testing.T, path string) ([]*fileCase, []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var cases []*fileCase
	var pending []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "http ") {
			pending = append(pending, l)
			continue
		}
		c := &fileCase{line: i + 1, directive: l, preamble: pending}
		pending = nil
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.body = append(c.body, lines[i])
		}
		i++
		for ; i < len(lines) && lines[i] != ""; i++ {
			c.expected = append(c.expected, lines[i])
		}
		if i < len(lines) {
			pending = append(pending, "")
		}
		cases = append(cases, c)
	}
	return cases, pending
}

func runFile(t *testing.T, path string) {
	cases, trailer := parseFile(t, path)
	b := newFakeBackend()
	open := startServer(t, b, Config{})
	authed := startServer(t, b, Config{Users: map[string]string{"alice": "secret"}})
	var out strings.Builder
	for _, c := range cases {
		for _, p := range c.preamble {
			out.WriteString(p + "\n")
		}
		got := doCase(t, c, open.URL, authed.URL)
		out.WriteString(c.directive + "\n")
		for _, l := range c.body {
			out.WriteString(l + "\n")
		}
		out.WriteString("----\n" + got + "\n")
		if want := strings.Join(c.expected, "\n"); !*rewrite && got != want {
			t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, c.line, c.directive, got, want)
		}
	}
	for _, p := range trailer {
		out.WriteString(p + "\n")
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func doCase(t *testing.T, c *fileCase, openURL, authURL string) string {
	fields := strings.Fields(c.directive)
	if len(fields) < 3 {
		t.Fatalf("line %d: want 'http METHOD PATH ...'", c.line)
	}
	method, path := fields[1], fields[2]
	base := openURL
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var accept, auth string
	for _, a := range fields[3:] {
		switch {
		case strings.HasPrefix(a, "accept="):
			accept = strings.TrimPrefix(a, "accept=")
		case strings.HasPrefix(a, "auth="):
			auth = strings.TrimPrefix(a, "auth=")
			base = authURL
		case a == "h2c":
			client = h2cClient()
		default:
			t.Fatalf("line %d: unknown argument %q", c.line, a)
		}
	}
	var body io.Reader
	if len(c.body) > 0 {
		body = strings.NewReader(strings.Join(c.body, "\n"))
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if auth != "" && auth != "none" {
		u, p, _ := strings.Cut(auth, ":")
		req.SetBasicAuth(u, p)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("line %d: %v", c.line, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("line %d: reading body: %v", c.line, err)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	if loc := resp.Header.Get("Location"); loc != "" {
		fmt.Fprintf(&sb, "\n<redirect> %s", loc)
	} else if len(data) > 0 {
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			sb.WriteString("\n" + sc.Text())
		}
	}
	return sb.String()
}
