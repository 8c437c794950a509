package app_test

// End-to-end test of the browser console: a real server (app.Start on loopback) and a real
// headless Chromium driven over the DevTools protocol with chromedp. It types into the editor,
// clicks the buttons and reads the DOM as a person would see it, and checks the server's side
// of each step over REST. Every wait is a DOM or server condition with a deadline.
//
// It needs Debian's chromium package at /usr/bin/chromium (.ci/run installs it) and skips
// without it, unless SLUICE_REQUIRE_CHROMIUM is set (as .ci/run does), when it fails. SLUICE_WEB_SCREENSHOTS=dir keeps the screenshots in dir for a look by hand;
// otherwise they go to t.TempDir().

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const chromiumPath = "/usr/bin/chromium"

// browserConsole collects what the page writes to its console: console API calls, uncaught
// exceptions and browser log entries (failed loads, CSP violations).
type browserConsole struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
	seen int // messages already checked by problems
}

func (c *browserConsole) add(m chromedp.ConsoleMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
}

// problems returns the errors and exceptions that arrived since the last call, less those
// that allowed accepts.
func (c *browserConsole) problems(allowed func(chromedp.ConsoleMessage) bool) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs[c.seen:] {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		if allowed != nil && allowed(m) {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s:%d, source %q)", m, m.URL, m.Line+1, m.Source))
	}
	c.seen = len(c.msgs)
	return out
}

// startBrowser starts headless Chromium with a fresh profile and returns a tab context; the
// browser is stopped (and waited for) when the test ends, before its profile dir is removed.
func startBrowser(t *testing.T) (context.Context, *browserConsole) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("SLUICE_REQUIRE_CHROMIUM") != "" { // .ci/run sets it: CI installs Chromium
			t.Fatalf("SLUICE_REQUIRE_CHROMIUM is set but Chromium is missing at %s: %v", chromiumPath, err)
		}
		t.Skipf("the web console test needs Chromium at %s (Debian: apt-get install chromium; .ci/run installs it): %v", chromiumPath, err)
	}
	profile := filepath.Join(t.TempDir(), "profile")
	// Only these flags: the machine has no network, and Chromium's background services would
	// otherwise try to reach it. chromedp adds --remote-debugging-pipe and about:blank.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
	})
	// The first action starts the browser and binds the browser's life to the context it is
	// given, so it gets ctx itself, with no deadline; each step below has its own.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	cons := &browserConsole{}
	msgs := chromedp.Console(ctx) // subscribes now, before the page loads
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			cons.add(m)
		}
	}()
	return ctx, cons
}

// step runs actions with a deadline; it fails the test with what in words.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitDOM polls a JavaScript condition until it is truthy or within passes; on a timeout it
// fails with what and the value of describe (an expression that shows the page's state).
func waitDOM(t *testing.T, ctx context.Context, what, cond, describe string, within time.Duration) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, within+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(sctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(within)))
	if err != nil {
		state := eval[string](t, ctx, describe)
		t.Fatalf("waiting for %s (%s): %v\npage state: %s", what, cond, err, state)
	}
}

// pageState is an expression that describes what the console shows, for failure messages.
const pageState = `JSON.stringify({
  status: document.getElementById("status").textContent,
  error: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
  output: document.getElementById("output").innerText.slice(0, 2000),
  streams: [...document.querySelectorAll("#streams li")].map((li) => li.textContent),
  run: !document.getElementById("run").disabled,
  stop: !document.getElementById("stop").disabled,
})`

// typeSQL replaces the editor's text as a person would: focus it, Ctrl+A, Backspace, then type
// sql key by key.
func typeSQL(t *testing.T, ctx context.Context, sql string) {
	t.Helper()
	step(t, ctx, "typing into the editor",
		chromedp.Focus(chromedp.ID("editor")),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.SendKeys(chromedp.ID("editor"), sql))
	if got := eval[string](t, ctx, `document.getElementById("editor").value`); got != sql {
		t.Fatalf("editor holds %q after typing %q", got, sql)
	}
}

// pushQueries lists the push queries the server runs (SHOW QUERIES over REST).
func pushQueries(t *testing.T, s *testServer) []string {
	t.Helper()
	var out []string
	for _, ent := range s.ksql("SHOW QUERIES;") {
		qs, _ := ent["queries"].([]any)
		for _, q := range qs {
			m, _ := q.(map[string]any)
			if m["queryType"] == "PUSH" {
				out = append(out, fmt.Sprintf("%v: %v", m["id"], m["queryString"]))
			}
		}
	}
	return out
}

func TestWebConsole(t *testing.T) {
	ctx, cons := startBrowser(t)
	s := startServer(t, "")
	noProblems := func(when string, allowed func(chromedp.ConsoleMessage) bool) {
		t.Helper()
		if p := cons.problems(allowed); len(p) > 0 {
			t.Errorf("browser console %s:\n  %s", when, strings.Join(p, "\n  "))
		}
	}

	// (1) The page loads, shows the server's info and fills the sidebar, with nothing on the
	// console.
	step(t, ctx, "loading the console", chromedp.Navigate(s.url("/")))
	waitDOM(t, ctx, "the sidebar and server info",
		`document.querySelector("#streams li") && document.querySelector("#tables li") &&
		 document.getElementById("server-info").textContent.includes("RUNNING")`, pageState, 10*time.Second)
	if title := eval[string](t, ctx, `document.title`); title != "Sluice console" {
		t.Errorf("title %q", title)
	}
	if tables := eval[string](t, ctx, `document.getElementById("tables").textContent`); tables != "none" {
		t.Errorf("tables on a new server: %q, want none", tables)
	}
	// Console messages arrive as events; a round trip to the page makes sure those of the load
	// are in before we look.
	eval[bool](t, ctx, `true`)
	noProblems("while loading the page", nil)
	// A marker in the page's global scope: still there at the end means nothing reloaded it.
	eval[chromedp.Void](t, ctx, `window.__sluiceTestMarker = 42`)

	// (2) CREATE STREAM through the editor and the Run button.
	create := `CREATE STREAM clicks (user STRING KEY, url STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);`
	typeSQL(t, ctx, create)
	step(t, ctx, "clicking Run", chromedp.Click(chromedp.ID("run")))
	waitDOM(t, ctx, "the success entity",
		`(() => { const sec = document.querySelector("#output section.result");
		  return sec && sec.querySelector("h2").textContent === "SUCCESS" &&
		    sec.textContent.includes("Stream created") &&
		    document.getElementById("status").textContent === "Done"; })()`, pageState, 10*time.Second)
	if stmt := eval[string](t, ctx, `document.querySelector("#output section.result .statement").textContent`); stmt != create {
		t.Errorf("the result shows statement %q, want %q", stmt, create)
	}
	if shown := eval[bool](t, ctx, `document.getElementById("error").hidden`); !shown {
		t.Errorf("an error is shown after a successful CREATE: %s", eval[string](t, ctx, pageState))
	}
	waitDOM(t, ctx, "CLICKS in the sidebar",
		`[...document.querySelectorAll("#streams li button")].some((b) => b.textContent === "CLICKS")`, pageState, 10*time.Second)
	noProblems("after CREATE STREAM", nil)

	// (3) A push query streams into a live table; rows inserted over REST appear in it. The
	// statement after it must not run once Stop ends the run.
	typeSQL(t, ctx, "SELECT * FROM clicks EMIT CHANGES;\nSHOW TABLES;")
	step(t, ctx, "clicking Run", chromedp.Click(chromedp.ID("run")))
	waitDOM(t, ctx, "the live table's header",
		`(() => { const ths = [...document.querySelectorAll("#output table.data thead th")];
		  return ths.length === 2 && ths[0].firstChild.textContent === "USER" && ths[1].firstChild.textContent === "URL" &&
		    !document.getElementById("stop").disabled && document.getElementById("run").disabled; })()`, pageState, 10*time.Second)
	if q := pushQueries(t, s); len(q) != 1 || !strings.Contains(q[0], "SELECT * FROM clicks EMIT CHANGES") {
		t.Fatalf("server's push queries while the console streams: %q", q)
	}
	s.ksql(`INSERT INTO clicks (user, url) VALUES ('alice', '/home');
INSERT INTO clicks (user, url) VALUES ('bob', '/cart');`)
	rowsJS := `JSON.stringify([...document.querySelectorAll("#output table.data tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent)))`
	waitDOM(t, ctx, "both inserted rows in the live table",
		rowsJS+` === '[["alice","/home"],["bob","/cart"]]' && document.getElementById("status").textContent === "Streaming… 2 rows"`,
		pageState, 10*time.Second)
	if m := eval[int](t, ctx, `window.__sluiceTestMarker || 0`); m != 42 {
		t.Errorf("the page was reloaded (marker %d)", m)
	}
	shot := screenshot(t, ctx, "live-table.png")
	t.Logf("screenshot of the live table: %s", shot)

	step(t, ctx, "clicking Stop", chromedp.Click(chromedp.ID("stop")))
	waitDOM(t, ctx, "the query to stop",
		`document.getElementById("status").textContent === "Stopped" &&
		 document.getElementById("stop").disabled && !document.getElementById("run").disabled`, pageState, 10*time.Second)
	if err := waitFor(10*time.Second, func() bool { return len(pushQueries(t, s)) == 0 }); err != nil {
		t.Errorf("the server still runs push queries after Stop: %q", pushQueries(t, s))
	}
	// The server ends the stream when /close-query arrives, so the page can show "Stopped"
	// before the browser records the /close-query response: wait for the entry, don't peek once.
	waitDOM(t, ctx, "Stop's call to /close-query",
		`performance.getEntriesByType("resource").some((e) => new URL(e.name).pathname === "/close-query")`, pageState, 10*time.Second)
	if rows := eval[string](t, ctx, rowsJS); rows != `[["alice","/home"],["bob","/cart"]]` {
		t.Errorf("rows after Stop: %s", rows)
	}
	if !eval[bool](t, ctx, `document.querySelectorAll("#output section.result").length === 1 &&
		document.querySelector("#output section.result").textContent.endsWith("2 rows (stopped)")`) {
		t.Errorf("after Stop the output should be the stopped query alone: %s", eval[string](t, ctx, pageState))
	}
	if shown := eval[bool](t, ctx, `document.getElementById("error").hidden`); !shown {
		t.Errorf("an error is shown after Stop: %s", eval[string](t, ctx, pageState))
	}
	noProblems("while streaming and stopping", nil)

	// (4) Errors show their message and where they are in the editor. The failing statement
	// is the second in the editor and spans two lines, so the server's position (relative to
	// the statement) must be moved to the editor's line 3.
	badCreate := "SHOW STREAMS;\nCREATE STREAM bad (id INT)\n  WITH (kafka_topic='bad' value_format='JSON');"
	// A 400 answer is logged by the browser as a failed load; that one is expected.
	expect400 := func(m chromedp.ConsoleMessage) bool {
		return m.Source == "network" && strings.Contains(m.Text, "400")
	}
	for _, tc := range []struct {
		name, sql, token string
		where, message   string
	}{
		// A syntax error: "line 2:27" in the statement is line 3, column 27 in the editor.
		{"syntax", badCreate, "value_format", "Line 3, column 27: ", "line 2:27: Syntax Error\nSyntax error at or near 'value_format' at line 2:27 (error 40001)"},
		// A semantic error in a query ("Line: 1, Col: 28", through /query-stream).
		{"semantic", "\n  SELECT * FROM clicks WHERE nope EMIT CHANGES;", "nope", "Line 2, column 30: ", "Line: 1, Col: 28: WHERE column 'NOPE' cannot be resolved. (error 40001)"},
	} {
		typeSQL(t, ctx, tc.sql)
		step(t, ctx, "clicking Run", chromedp.Click(chromedp.ID("run")))
		waitDOM(t, ctx, tc.name+" error shown",
			`!document.getElementById("error").hidden && document.getElementById("status").textContent === "Failed" &&
			 !document.getElementById("run").disabled`, pageState, 10*time.Second)
		where := eval[string](t, ctx, `(document.querySelector("#error .where") || {}).textContent || ""`)
		text := eval[string](t, ctx, `document.getElementById("error").textContent`)
		if where != tc.where || !strings.HasPrefix(text, tc.where+tc.message) {
			t.Errorf("%s error: shows %q (position %q), want %q then %q", tc.name, text, where, tc.where, tc.message)
		}
		// The editor selects the place of the error.
		type sel struct{ Start, End int }
		got := eval[sel](t, ctx, `({Start: document.getElementById("editor").selectionStart, End: document.getElementById("editor").selectionEnd})`)
		if want := strings.Index(tc.sql, tc.token); got.Start != want {
			t.Errorf("%s error: editor selection %+v, want it to start at %d (%q)", tc.name, got, want, tc.token)
		}
		if tc.name == "syntax" {
			// The statement before the error ran and still shows its result.
			if !eval[bool](t, ctx, `document.querySelector("#output h2").textContent === "streams" &&
				document.getElementById("output").textContent.includes("CLICKS")`) {
				t.Errorf("the results before the error are not shown: %s", eval[string](t, ctx, pageState))
			}
		}
		noProblems("after a "+tc.name+" error", expect400)
	}
	errShot := screenshot(t, ctx, "error.png")
	t.Logf("screenshot of an error: %s", errShot)
	if m := eval[int](t, ctx, `window.__sluiceTestMarker || 0`); m != 42 {
		t.Errorf("the page was reloaded (marker %d)", m)
	}
	noProblems("at the end", expect400)
}

// screenshot takes a PNG of the whole page into the test's temp dir (or SLUICE_WEB_SCREENSHOTS)
// and checks that it is a real picture: the viewport's size, and not one flat colour.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("SLUICE_WEB_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 1280 || b.Dy() < 860 {
		t.Errorf("screenshot %s is %v, want at least the 1280x860 viewport", path, b)
	}
	if n := colours(img, 64); n < 8 {
		t.Errorf("screenshot %s has %d colours: the page looks blank", path, n)
	}
	return path
}

// colours counts distinct colours in img, up to limit.
func colours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
