package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestHandlerServesEmbeddedFiles checks every console file over loopback HTTP with its content
// type, and that the page references only its own files.
func TestHandlerServesEmbeddedFiles(t *testing.T) {
	ts := httptest.NewServer(Handler())
	defer ts.Close()
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `<textarea id="editor"`},
		{"/index.html", "", ""}, // FileServer redirects /index.html to /
		{"/app.js", "text/javascript; charset=utf-8", "/query-stream"},
		{"/style.css", "text/css; charset=utf-8", "table.data"},
	} {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.contentType == "" {
			if resp.StatusCode != http.StatusMovedPermanently {
				t.Errorf("%s: status %d, want a redirect", tc.path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", tc.path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
			t.Errorf("%s: content type %q, want %q", tc.path, ct, tc.contentType)
		}
		if !strings.Contains(string(body), tc.contains) {
			t.Errorf("%s: body lacks %q", tc.path, tc.contains)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: missing security headers %v", tc.path, resp.Header)
		}
	}
	resp, err := http.Get(ts.URL + "/missing.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing file: status %d", resp.StatusCode)
	}
}

// TestNoExternalResources keeps the console self-contained: no URLs to other hosts.
func TestNoExternalResources(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`)
	for _, name := range []string{"static/index.html", "static/app.js", "static/style.css"} {
		data, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if loc := external.FindIndex(data); loc != nil {
			t.Errorf("%s references an external resource: %q", name, data[loc[0]:loc[1]])
		}
		if strings.Contains(string(data), "innerHTML") {
			t.Errorf("%s uses innerHTML; build DOM nodes with textContent", name)
		}
	}
}
