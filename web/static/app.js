// Sluice console: runs SQL through the ksqlDB-compatible REST API of the server that served
// this page. No framework, no build step; the DOM is built from nodes and text only, never
// by parsing HTML strings, so values from the server cannot inject markup.
"use strict";

const MAX_ROWS = 5000; // rows kept in a live table; older ones scroll away

const $ = (id) => document.getElementById(id);
const editor = $("editor");
const runButton = $("run");
const stopButton = $("stop");
const statusEl = $("status");
const errorEl = $("error");
const outputEl = $("output");

// Client-side session, as the ksql CLI keeps it: SET/UNSET and DEFINE/UNDEFINE change these,
// and every request carries them.
const session = { props: {}, vars: {} };

// The running query, if any: { ctl: AbortController, queryId: string|null, stopped: bool }.
let current = null;
// True while run() works through the editor's statements (Ctrl+Enter must not start a second
// run meanwhile).
let running = false;

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c == null) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function setStatus(text) { statusEl.textContent = text; }

async function readError(resp) {
  const text = await resp.text();
  try {
    return new ApiError(resp.status, JSON.parse(text));
  } catch {
    return new ApiError(resp.status, { message: text.trim() || resp.statusText });
  }
}

async function postKsql(ksql) {
  const resp = await fetch("/ksql", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Accept": "application/vnd.ksql.v1+json" },
    body: JSON.stringify({ ksql, streamsProperties: session.props, sessionVariables: session.vars }),
  });
  if (!resp.ok) throw await readError(resp);
  return resp.json();
}

// splitStatements cuts the editor text into statements ending with ';', skipping quoted text
// and comments. Each statement keeps its offset in the editor for error positions.
function splitStatements(text) {
  const out = [];
  let start = 0;
  let i = 0;
  const push = (end) => {
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    if (raw.trim() !== "" && stripComments(raw).trim() !== "") {
      out.push({ text: raw.trim(), offset: start + lead });
    }
  };
  while (i < text.length) {
    const c = text[i];
    if (c === "'" || c === '"' || c === "`") {
      i++;
      while (i < text.length) {
        if (text[i] === c) {
          if (text[i + 1] === c) { i += 2; continue; } // doubled quote escapes itself
          break;
        }
        i++;
      }
      i++;
    } else if (c === "-" && text[i + 1] === "-") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === ";") {
      push(i + 1);
      start = ++i;
    } else {
      i++;
    }
  }
  push(text.length);
  return out;
}

function stripComments(s) {
  return s.replace(/--[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
}

function firstWords(stmt) {
  return stripComments(stmt).trim().split(/\s+/, 2).map((w) => w.toUpperCase());
}

// handleLocally applies SET/UNSET/DEFINE/UNDEFINE to the client session; true if it did.
function handleLocally(stmt) {
  const s = stripComments(stmt).trim();
  let m;
  if ((m = /^SET\s+'([^']+)'\s*=\s*'((?:[^']|'')*)'\s*;?$/i.exec(s))) {
    session.props[m[1]] = m[2].replace(/''/g, "'");
    return `Property ${m[1]} set to ${session.props[m[1]]}`;
  }
  if ((m = /^UNSET\s+'([^']+)'\s*;?$/i.exec(s))) {
    delete session.props[m[1]];
    return `Property ${m[1]} unset`;
  }
  if ((m = /^DEFINE\s+(\w+)\s*=\s*'((?:[^']|'')*)'\s*;?$/i.exec(s))) {
    session.vars[m[1]] = m[2].replace(/''/g, "'");
    return `Variable ${m[1]} defined`;
  }
  if ((m = /^UNDEFINE\s+(\w+)\s*;?$/i.exec(s))) {
    delete session.vars[m[1]];
    return `Variable ${m[1]} undefined`;
  }
  return null;
}

// ---- errors --------------------------------------------------------------------------------

// errorPosition finds the position an error message names, relative to its statement: syntax
// errors say "line L:C", semantic errors "Line: L, Col: C" (both 1-based). Null if none.
function errorPosition(msg) {
  const m = /\bline (\d+):(\d+)/i.exec(msg) || /\bLine: (\d+), Col: (\d+)/i.exec(msg);
  return m ? { line: Number(m[1]), col: Number(m[2]) } : null;
}

// showError displays an error; when its message carries a position, the position is converted
// to editor coordinates (relative to the statement at offset) and selected in the editor.
function showError(err, stmt) {
  errorEl.replaceChildren();
  errorEl.hidden = false;
  let msg = err.message || String(err);
  if (err.body && err.body.statementText) {
    // ksqlDB-style syntax errors repeat the statement, which is shown below the message.
    msg = msg.replace("\n\nStatement: " + err.body.statementText, "");
  }
  const at = errorPosition(msg);
  if (at && stmt) {
    const pos = editorPosition(stmt, at.line, at.col);
    const lc = lineCol(editor.value, pos);
    errorEl.append(el("span", { class: "where" }, `Line ${lc.line}, column ${lc.col}: `));
    editor.focus();
    editor.setSelectionRange(pos, Math.min(pos + 1, editor.value.length));
  }
  const code = err.body && err.body.error_code ? ` (error ${err.body.error_code})` : "";
  errorEl.append(msg + code);
  if (err.body && err.body.statementText) {
    errorEl.append(el("div", { class: "statement" }, err.body.statementText));
  }
}

function editorPosition(stmt, line, col) {
  let pos = stmt.offset;
  const text = editor.value;
  for (let l = 1; l < line && pos < text.length; l++) {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) break;
    pos = nl + 1;
  }
  return Math.min(pos + Math.max(col - 1, 0), text.length);
}

function lineCol(text, pos) {
  const before = text.slice(0, pos).split("\n");
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function clearError() {
  errorEl.hidden = true;
  errorEl.replaceChildren();
}

// ---- rendering -----------------------------------------------------------------------------

function cellText(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function dataTable(columns, rows, caption) {
  const thead = el("thead", null, el("tr", null, ...columns.map((c) =>
    el("th", { scope: "col" }, c.name, c.type ? el("span", { class: "type" }, c.type) : null))));
  const tbody = el("tbody");
  for (const r of rows) tbody.append(dataRow(r));
  const table = el("table", { class: "data" }, caption ? el("caption", { class: "muted" }, caption) : null, thead, tbody);
  return { wrap: el("div", { class: "table-wrap", tabindex: "0" }, table), tbody };
}

function dataRow(values) {
  return el("tr", null, ...values.map((v) => {
    const t = cellText(v);
    return t === null ? el("td", { class: "null" }, "null") : el("td", null, t);
  }));
}

function resultSection(title, stmtText) {
  const sec = el("section", { class: "result" }, el("h2", null, title),
    stmtText ? el("p", { class: "statement" }, stmtText) : null);
  outputEl.append(sec);
  return sec;
}

function fieldType(schema) {
  if (!schema) return "";
  switch (schema.type) {
    case "ARRAY": return `ARRAY<${fieldType(schema.memberSchema)}>`;
    case "MAP": return `MAP<STRING, ${fieldType(schema.memberSchema)}>`;
    case "STRUCT": return `STRUCT<${(schema.fields || []).map((f) => `${f.name} ${fieldType(f.schema)}`).join(", ")}>`;
    default: return schema.type;
  }
}

function renderEntity(ent) {
  const type = ent["@type"];
  const sec = resultSection(type, ent.statementText);
  const table = (cols, rows) => sec.append(dataTable(cols.map((name) => ({ name })), rows).wrap);
  switch (type) {
    case "currentStatus": {
      const st = ent.commandStatus || {};
      sec.querySelector("h2").textContent = st.status || "status";
      sec.append(el("p", null, st.message || ""));
      break;
    }
    case "streams":
    case "tables": {
      const list = ent[type] || [];
      table(["Name", "Topic", "Key format", "Value format", "Windowed"],
        list.map((s) => [s.name, s.topic, s.keyFormat, s.valueFormat, s.isWindowed]));
      break;
    }
    case "queries":
      table(["Query ID", "Type", "State", "Sinks", "Query"],
        (ent.queries || []).map((q) => [q.id, q.queryType, q.state, (q.sinks || []).join(", "), q.queryString]));
      break;
    case "sourceDescription": {
      const d = ent.sourceDescription || {};
      sec.append(el("p", null, `${d.type || ""} ${d.name || ""} · topic ${d.topic || "?"} · key ${d.keyFormat || "?"} · value ${d.valueFormat || "?"}`));
      table(["Field", "Type", ""], (d.fields || []).map((f) => [f.name, fieldType(f.schema), f.type || ""]));
      break;
    }
    case "properties":
      table(["Property", "Value", "Scope"], (ent.properties || []).map((p) => [p.name, p.value, p.scope]));
      break;
    case "warning_entity":
      sec.append(el("p", null, ent.message));
      break;
    default: {
      const copy = { ...ent };
      delete copy.statementText;
      delete copy.warnings;
      sec.append(el("pre", { class: "json" }, JSON.stringify(copy, null, 2)));
    }
  }
  for (const w of ent.warnings || []) sec.append(el("p", { class: "muted" }, `Warning: ${w.message}`));
}

// ---- running -------------------------------------------------------------------------------

function isQuery(stmt) {
  const [w] = firstWords(stmt);
  return w === "SELECT" || w === "PRINT";
}

function isDDL(stmt) {
  const [a, b] = firstWords(stmt);
  return a === "CREATE" || a === "DROP" || (a === "SHOW" && b === undefined);
}

async function run() {
  if (running) return;
  clearError();
  outputEl.replaceChildren();
  const stmts = splitStatements(editor.value);
  if (stmts.length === 0) { setStatus("Nothing to run"); return; }
  running = true;
  runButton.disabled = true;
  let refresh = false;
  let stopped = false;
  try {
    for (const stmt of stmts) {
      const local = handleLocally(stmt.text);
      if (local) {
        resultSection("session", stmt.text).append(el("p", null, local));
        continue;
      }
      try {
        if (isQuery(stmt.text)) {
          // Stop ends the whole run, not only this query: the statements after it do not run.
          if (await streamQuery(stmt)) { stopped = true; break; }
          continue;
        }
        setStatus("Running…");
        const ents = await postKsql(stmt.text);
        for (const ent of ents) renderEntity(ent);
        refresh = refresh || isDDL(stmt.text);
      } catch (err) {
        // Errors name their position relative to the statement; keep which one failed.
        if (!err.stmt) err.stmt = stmt;
        throw err;
      }
    }
    setStatus(stopped ? "Stopped" : "Done");
  } catch (err) {
    if (err.name === "AbortError") {
      setStatus("Stopped");
    } else {
      setStatus("Failed");
      showError(err, err.stmt);
    }
  } finally {
    running = false;
    runButton.disabled = false;
    stopButton.disabled = true;
    current = null;
    if (refresh) loadSources();
  }
}

// streamQuery runs one SELECT or PRINT through /query-stream (delimited) and appends rows to a
// live table as they arrive, until the query ends or Stop is pressed. It returns true when
// Stop ended it. (After /close-query the server ends the response normally, so the end of the
// stream alone does not tell a finished query from a stopped one.)
async function streamQuery(stmt) {
  const ctl = new AbortController();
  current = { ctl, queryId: null, stopped: false };
  const mine = current;
  stopButton.disabled = false;
  setStatus("Starting query…");
  let resp;
  try {
    resp = await fetch("/query-stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/vnd.ksqlapi.delimited.v1" },
      body: JSON.stringify({ sql: stmt.text, properties: session.props, sessionVariables: session.vars }),
      signal: ctl.signal,
    });
  } catch (err) {
    err.stmt = stmt;
    throw err;
  }
  if (!resp.ok) {
    const err = await readError(resp);
    err.stmt = stmt;
    throw err;
  }
  const sec = resultSection("Query", stmt.text);
  let tbody = null;
  let rows = 0;
  let scheduled = false;
  const showCount = () => {
    scheduled = false;
    if (current === mine && !mine.stopped) setStatus(`Streaming… ${rows} row${rows === 1 ? "" : "s"}`);
  };
  const handleLine = (line) => {
    if (line.trim() === "") return;
    let item;
    try {
      item = JSON.parse(line);
    } catch {
      item = [line]; // PRINT output is plain text
    }
    if (tbody === null) {
      if (!Array.isArray(item) && item.columnNames) {
        current.queryId = item.queryId || null;
        const cols = item.columnNames.map((name, i) => ({ name, type: (item.columnTypes || [])[i] }));
        const t = dataTable(cols, []);
        sec.append(t.wrap);
        tbody = t.tbody;
        return;
      }
      const t = dataTable([{ name: "Output" }], []);
      sec.append(t.wrap);
      tbody = t.tbody;
    }
    if (Array.isArray(item)) {
      tbody.append(dataRow(item));
      rows++;
      if (tbody.rows.length > MAX_ROWS) tbody.deleteRow(0);
      if (!scheduled) { scheduled = true; requestAnimationFrame(showCount); }
    } else if (item && item["@type"] && String(item["@type"]).endsWith("error")) {
      const err = new ApiError(200, item);
      err.stmt = stmt;
      throw err;
    }
  };
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        handleLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
    handleLine(buf + decoder.decode());
  } catch (err) {
    if (!mine.stopped) throw err;
  } finally {
    reader.releaseLock();
  }
  sec.append(el("p", { class: "muted" }, `${rows} row${rows === 1 ? "" : "s"}${mine.stopped ? " (stopped)" : ""}`));
  return mine.stopped;
}

async function stop() {
  if (!current) return;
  const { ctl, queryId } = current;
  current.stopped = true;
  stopButton.disabled = true;
  if (queryId) {
    try {
      await fetch("/close-query", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ queryId }),
      });
    } catch {
      // The abort below ends the request either way.
    }
  }
  ctl.abort();
}

// ---- sidebar and info ----------------------------------------------------------------------

async function loadSources() {
  for (const kind of ["streams", "tables"]) {
    const list = $(kind);
    try {
      const ents = await postKsql(`SHOW ${kind.toUpperCase()};`);
      const items = (ents[0] && ents[0][kind]) || [];
      list.replaceChildren(...items.map((s) => el("li", null, el("button", {
        type: "button",
        title: `Query ${s.name}`,
        onclick: () => {
          editor.value = `SELECT * FROM ${s.name} EMIT CHANGES;`;
          editor.focus();
        },
      }, s.name))));
      if (items.length === 0) list.replaceChildren(el("li", { class: "empty" }, "none"));
    } catch (err) {
      list.replaceChildren(el("li", { class: "empty" }, `unavailable: ${err.message}`));
    }
  }
}

async function loadInfo() {
  try {
    const resp = await fetch("/info", { headers: { "Accept": "application/json" } });
    const info = (await resp.json()).KsqlServerInfo || {};
    $("server-info").textContent = `ksqlDB API ${info.version} · service ${info.ksqlServiceId} · ${info.serverStatus}`;
  } catch {
    $("server-info").textContent = "server info unavailable";
  }
}

$("run-form").addEventListener("submit", (e) => { e.preventDefault(); run(); });
stopButton.addEventListener("click", stop);
$("refresh").addEventListener("click", loadSources);
editor.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
    e.preventDefault();
    run();
  }
});
loadInfo();
loadSources();
