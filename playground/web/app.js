// The rules playground: the editors, the URL fragment and the decision.
// autogroupEvaluate comes from autogroup.wasm (playground/wasm), the samples
// from samples.js (written by `make playground`). Nothing is sent anywhere.
"use strict";

const $ = (id) => document.getElementById(id);
const samples = window.AUTOGROUP_SAMPLES || { rules: "", events: [] };

// base64url (RFC 4648 §5) of UTF-8 text, without padding; decoding
// accepts padding or not.
function encode(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decode(s) {
  let b64 = s.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  b64 += "===".slice((b64.length + 3) % 4);
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

// readFragment returns {rules, event} from location.hash; a missing or
// undecodable part is undefined, and a note says which.
function readFragment() {
  const out = {};
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  for (const key of ["rules", "event"]) {
    if (!params.has(key)) continue;
    try {
      out[key] = decode(params.get(key));
    } catch (e) {
      out.note = `the link's ${key} is not base64url of UTF-8 text`;
    }
  }
  return out;
}

function writeFragment() {
  const hash = "#rules=" + encode($("rules").value) + "&event=" + encode($("event").value);
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

// Editors: a textarea over a backdrop that highlights lines, beside a
// gutter of line numbers. Scrolling the textarea scrolls both.
function setupEditor(name) {
  const ta = $(name), gutter = $(name + "-gutter"), backdrop = $(name + "-backdrop");
  ta.addEventListener("scroll", () => {
    gutter.scrollTop = ta.scrollTop;
    backdrop.scrollTop = ta.scrollTop;
    backdrop.scrollLeft = ta.scrollLeft;
  });
  return { ta, gutter, backdrop, marks: new Map() };
}

const editors = { rules: setupEditor("rules"), event: setupEditor("event") };

// paint redraws an editor's gutter and backdrop; marks maps a line number
// to "bad" or "warn".
function paint(ed, marks) {
  ed.marks = marks;
  const lines = ed.ta.value.split("\n");
  const gutter = document.createDocumentFragment(), backdrop = document.createDocumentFragment();
  lines.forEach((text, i) => {
    const n = i + 1, g = document.createElement("div"), b = document.createElement("div");
    g.textContent = n;
    g.dataset.line = n;
    b.textContent = text || " ";
    if (marks.has(n)) {
      g.className = b.className = marks.get(n);
    }
    gutter.appendChild(g);
    backdrop.appendChild(b);
  });
  // Room to scroll past the last line, as the textarea does.
  const pad = document.createElement("div");
  pad.style.height = "4em";
  gutter.appendChild(pad);
  ed.gutter.replaceChildren(gutter);
  ed.backdrop.replaceChildren(backdrop);
  ed.gutter.scrollTop = ed.backdrop.scrollTop = ed.ta.scrollTop;
}

// selectLine selects line n of an editor and scrolls it into view.
function selectLine(ed, n) {
  const lines = ed.ta.value.split("\n");
  if (n < 1 || n > lines.length) return;
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += lines[i].length + 1;
  ed.ta.focus();
  ed.ta.setSelectionRange(start, start + lines[n - 1].length);
  const lh = parseFloat(getComputedStyle(ed.ta).lineHeight) || 18;
  ed.ta.scrollTop = Math.max(0, (n - 3) * lh);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function mark(held) {
  return held ? el("span", "held", "✓") : el("span", "failed", "✗");
}

// problemList fills ul with "line:column: message" items that select the
// line when clicked, and returns the marks for the editor.
function problemList(ul, problems, ed, kind, prefix) {
  ul.replaceChildren();
  const marks = new Map();
  for (const p of problems) {
    const pos = p.line > 0 ? `${p.line}:${p.column}: ` : "";
    const li = el("li", "", prefix + pos + p.message);
    if (p.line > 0) {
      li.dataset.line = p.line;
      li.addEventListener("click", () => selectLine(ed, p.line));
      if (marks.get(p.line) !== "bad") marks.set(p.line, kind);
    }
    ul.appendChild(li);
  }
  return marks;
}

// conditionNode renders a condition and the sub-conditions evaluated.
function conditionNode(c) {
  const line = [mark(c.held), " ", el("span", "text", c.text), el("span", "reason", " — " + c.reason)];
  if (!c.children || c.children.length === 0) {
    const d = el("div", "leaf");
    d.append(...line);
    return d;
  }
  const d = el("details");
  d.open = true;
  const s = el("summary");
  s.append(...line);
  d.append(s, ...c.children.map(conditionNode));
  return d;
}

function ruleNode(r) {
  const d = el("details"), s = el("summary");
  d.append(s);
  if (!r.evaluated) {
    s.append(el("span", "skipped", "–"), ` ${r.name}: not evaluated (after stop)`);
    d.classList.add("skipped");
    return d;
  }
  const adds = r.groups.concat(r.groupsFrom ? r.groupsFrom.groups : []);
  const what = r.matched ? `matched, adds ${adds.length ? adds.join(", ") : "no group"}${r.stopped ? "; stop: later rules are not evaluated" : ""}` : "no match";
  s.append(mark(r.matched), ` ${r.name}: ${what}`);
  d.open = r.matched;
  if (r.condition) d.append(conditionNode(r.condition));
  if (r.groupsFrom) {
    const f = r.groupsFrom, g = el("details");
    g.open = true;
    g.append(el("summary", "", `groupsFrom ${f.text} — ${f.reason}`));
    for (const name of f.groups) g.append(el("div", "leaf", "✓ " + name));
    for (const why of f.rejected) g.append(el("div", "leaf", "✗ " + why));
    d.append(g);
  }
  return d;
}

function renderTree(x) {
  const tree = $("tree");
  tree.replaceChildren();
  if (!x) {
    tree.append(el("p", "quiet", "no decision: fix the problems above"));
    return;
  }
  if (!x.handled) {
    tree.append(el("p", "", `trigger source ${x.triggerSource} is not handled: no groups; no rule is evaluated and Cognito is not called`));
    return;
  }
  tree.append(el("p", "quiet", `trigger: ${x.triggerSource}, handled`));
  if (x.exclude) {
    const d = el("details");
    d.open = true;
    d.append(el("summary", "", "exclude"), conditionNode(x.exclude));
    tree.append(d);
    if (x.excluded) {
      tree.append(el("p", "", "excluded: the user is left alone: no group is added or removed, and no rule is evaluated"));
      return;
    }
  }
  for (const r of x.rules) tree.append(ruleNode(r));
  const defaults = x.defaultGroups.join(", ");
  if (x.defaultApplied) tree.append(el("p", "", `defaultGroups ${defaults}: applied, no rule matched`));
  else if (x.defaultGroups.length) tree.append(el("p", "", `defaultGroups ${defaults}: not applied, a rule matched`));
  else if (!x.groups.length) tree.append(el("p", "", "no rule matched and defaultGroups is empty: no groups"));
  if (x.dropped) tree.append(el("p", "", `dropped: ${x.dropped} more groups were selected; one decision selects at most 100`));
}

let evaluations = 0;

function evaluate() {
  const res = JSON.parse(window.autogroupEvaluate($("rules").value, $("event").value));
  const x = res.explanation;
  $("groups").textContent = x ? x.groups.join(",") : "";
  $("groups-note").textContent = x ? "" : "(no decision)";
  const bad = problemList($("problems"), res.problems, editors.rules, "bad", "");
  const warn = problemList($("warnings"), res.warnings, editors.rules, "warn", "");
  for (const [n, k] of warn) if (!bad.has(n)) bad.set(n, k);
  paint(editors.rules, bad);
  paint(editors.event, problemList($("event-problems"), res.eventProblems, editors.event, "bad", "event "));
  $("no-problems").hidden = res.problems.length > 0;
  renderTree(x);
  document.body.dataset.evaluations = ++evaluations;
}

let timer = 0;
function edited() {
  clearTimeout(timer);
  timer = setTimeout(() => { writeFragment(); evaluate(); }, 150);
}

function load() {
  const f = readFragment();
  $("rules").value = f.rules !== undefined ? f.rules : samples.rules;
  $("event").value = f.event !== undefined ? f.event : (samples.events[0] ? samples.events[0].event : "");
  $("status").textContent = f.note || "ready: edit either side, the decision follows";
  evaluate();
}

function setupSamples() {
  for (const s of samples.events) {
    const b = el("button", "", s.name.replace(/\.json$/, ""));
    b.type = "button";
    b.dataset.sample = s.name;
    b.addEventListener("click", () => {
      $("event").value = s.event;
      writeFragment();
      evaluate();
    });
    $("samples").appendChild(b);
  }
}

async function start() {
  const go = new Go();
  const resp = await fetch("autogroup.wasm");
  if (!resp.ok) throw new Error(`autogroup.wasm: HTTP ${resp.status}`);
  const { instance } = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  go.run(instance); // defines autogroupEvaluate, then waits for calls
  setupSamples();
  for (const id of ["rules", "event"]) $(id).addEventListener("input", edited);
  window.addEventListener("hashchange", load);
  $("copy-link").addEventListener("click", async () => {
    writeFragment();
    try {
      await navigator.clipboard.writeText(location.href);
      $("copied").textContent = "copied";
    } catch (e) {
      $("copied").textContent = "copy the address bar";
    }
  });
  load();
  document.body.dataset.state = "ready";
}

start().catch((e) => {
  $("status").textContent = "the engine did not start: " + e.message;
  document.body.dataset.state = "failed";
});
