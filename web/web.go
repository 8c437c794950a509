// Package web is Sluice's browser console: a SQL editor that runs statements through the REST
// API (POST /ksql), streams query results into a live table (POST /query-stream, read with the
// Fetch API's ReadableStream), stops push queries (POST /close-query), and lists streams and
// tables. The files under static/ are plain HTML, JavaScript and CSS with no build step and no
// external resources; they are embedded into the binary.
//
// This package only serves the files. server/rest mounts Handler at "/" through
// rest.Config.Static and owns every API route; the console talks to the API of the server that
// served it, so Basic auth (when enabled) covers both.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var files embed.FS

// Handler serves the console: "/" is index.html, other paths are files under static/. Unknown
// files are 404.
func Handler() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	fileServer := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The console loads nothing from elsewhere; say so, so that a compromised stored value
		// rendered by mistake cannot pull in a script.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
			"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}
