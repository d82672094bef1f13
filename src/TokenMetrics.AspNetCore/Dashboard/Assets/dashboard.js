// TokenMetrics dashboard pages. No framework, no build step. Data from the JSON API is only ever written with
// textContent / createElement (never as markup), so a stored session id or model name can never become HTML.
"use strict";
(function () {
  const body = document.body;
  const base = body.dataset.base || "";
  const page = body.dataset.page;
  const refreshSeconds = Number(body.dataset.refreshSeconds || "0");
  const csrfHeader = body.dataset.csrfHeader;
  const csrfToken = body.dataset.csrfToken;
  const charts = window.TokenMetricsCharts;
  const RANGES = { "24h": 24 * 3600e3, "7d": 7 * 24 * 3600e3, "30d": 30 * 24 * 3600e3 };

  // ---- small helpers ------------------------------------------------------------------------------------------------

  const $ = id => document.getElementById(id);

  function el(name, attrs, text) {
    const e = document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function cell(text, cls) { return el("td", cls ? { class: cls } : {}, text); }

  const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
  const fmtInt = v => integer.format(v || 0);
  const fmtCompact = v => compact.format(v || 0);
  const fmtShare = v => percent.format(v || 0);

  function fmtMoney(value, currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency, maximumFractionDigits: value < 1 ? 4 : 2 }).format(value);
    } catch {
      return currency + " " + value;
    }
  }

  // cost is { "USD": 0.0123, ... }; several currencies are listed side by side, never added up.
  function fmtCost(cost) {
    const entries = Object.entries(cost || {});
    return entries.length ? entries.map(([c, v]) => fmtMoney(v, c)).join(" + ") : fmtMoney(0, "USD");
  }

  // The currency with the largest total, for charts that can show only one.
  function mainCurrency(cost) {
    const entries = Object.entries(cost || {}).sort((a, b) => b[1] - a[1]);
    return entries.length ? entries[0][0] : "USD";
  }

  function fmtTime(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }

  function keyLabel(key) {
    const values = Object.values(key || {});
    return values.length && values[0] !== null && values[0] !== "" ? String(values[0]) : "(none)";
  }

  function sessionUrl(id, range) {
    return base + "/sessions/" + encodeURIComponent(id) + (range ? "?range=" + encodeURIComponent(range) : "");
  }

  function showError(message) {
    const box = $("error");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  }

  class HttpError extends Error {
    constructor(status, body) { super("HTTP " + status); this.status = status; this.body = body; }
  }

  async function api(path, params, init) {
    const url = new URL(base + "/api/" + path, location.origin);
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    const response = await fetch(url, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, init));
    if (response.status === 401) {
      location.assign(base + "/login?returnUrl=" + encodeURIComponent(location.pathname + location.search));
      throw new HttpError(401, null);
    }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!response.ok) throw new HttpError(response.status, json);
    return json;
  }

  function errorText(err) {
    if (err instanceof HttpError) {
      if (err.status === 403) return "You are signed in without the rights for this (an admin role is needed to change settings).";
      const b = err.body || {};
      return b.error || b.detail || b.title || ("The server answered " + err.status + ".");
    }
    return "Could not load the data: " + (err && err.message ? err.message : err);
  }

  // ---- URL state: time range and other query values stay in the address, so a view can be shared ---------------------

  const query = new URLSearchParams(location.search);

  function setQuery(values) {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined || v === null || v === "") query.delete(k); else query.set(k, v);
    }
    const qs = query.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  }

  function currentRange() {
    const r = query.get("range");
    return Object.prototype.hasOwnProperty.call(RANGES, r) ? r : "24h";
  }

  // A fixed window (?from=...&to=..., ISO 8601) wins over the range: a link to exactly the numbers someone saw.
  function fixedWindow() {
    const from = Date.parse(query.get("from") || ""), to = Date.parse(query.get("to") || "");
    return from < to ? { from: new Date(from).toISOString(), to: new Date(to).toISOString() } : null;
  }

  function timeWindow() {
    const fixed = fixedWindow();
    if (fixed) return fixed;
    // Whole UTC hours, the current one included: the stores answer hour-aligned ranges from their rollup, not the records.
    const to = new Date(Math.ceil(Date.now() / 3600000) * 3600000);
    return { from: new Date(to.getTime() - RANGES[currentRange()]).toISOString(), to: to.toISOString() };
  }

  function setupRange(onChange) {
    const buttons = document.querySelectorAll("[data-range]");
    const mark = () => buttons.forEach(b => b.setAttribute("aria-pressed", String(!fixedWindow() && b.dataset.range === currentRange())));
    buttons.forEach(b => b.addEventListener("click", () => {
      setQuery({ range: b.dataset.range === "24h" ? null : b.dataset.range, offset: null, from: null, to: null });
      mark();
      onChange();
    }));
    mark();
  }

  // ---- auto-refresh: a timer that can be paused; the status line is an aria-live region ---------------------------------

  function setupRefresh(load) {
    const status = $("refresh-status");
    const toggle = $("refresh-toggle");
    let paused = refreshSeconds <= 0;
    let timer = null;
    let running = false;

    async function run() {
      if (running) return;
      running = true;
      clearTimeout(timer);
      try {
        await load();
        showError("");
        if (status) status.textContent = "Updated " + new Date().toLocaleTimeString() + (paused ? "" : " · refreshes every " + refreshSeconds + " s");
      } catch (err) {
        showError(errorText(err));
        if (status) status.textContent = "Update failed at " + new Date().toLocaleTimeString();
      } finally {
        running = false;
        body.dataset.loaded = String(Number(body.dataset.loaded || "0") + 1);
        if (!paused) timer = setTimeout(run, refreshSeconds * 1000);
      }
    }

    if (toggle) {
      if (refreshSeconds <= 0) {
        toggle.hidden = true;
      }
      toggle.addEventListener("click", () => {
        paused = !paused;
        toggle.setAttribute("aria-pressed", String(paused));
        toggle.textContent = paused ? "Resume auto-refresh" : "Pause auto-refresh";
        clearTimeout(timer);
        if (!paused) run(); else if (status) status.textContent = "Auto-refresh paused";
      });
    }
    run();
    return run;
  }

  // ---- overview -------------------------------------------------------------------------------------------------------

  function setCard(id, text, value) {
    const e = $(id);
    e.textContent = text;
    e.dataset.value = typeof value === "string" ? value : JSON.stringify(value);
  }

  function bucketLabel(iso, bucket) {
    const d = new Date(iso);
    return bucket === "hour"
      ? d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })
      : d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  }

  function bucketShort(iso, bucket) {
    const d = new Date(iso);
    return bucket === "hour" ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  }

  async function loadOverview() {
    const data = await api("overview", timeWindow());
    const t = data.totals;
    setCard("card-tokens", fmtInt(t.totalTokens), t.totalTokens);
    $("card-tokens-sub").textContent = "in " + fmtCompact(t.inputTokens) + " · out " + fmtCompact(t.outputTokens) +
      " · cached " + fmtCompact(t.cachedInputTokens) + " · reasoning " + fmtCompact(t.reasoningTokens);
    setCard("card-cost", fmtCost(t.cost), t.cost || {});
    $("card-cost-sub").textContent = t.unpricedCalls ? fmtInt(t.unpricedCalls) + " unpriced calls" : "all calls priced";
    setCard("card-calls", fmtInt(t.calls), t.calls);
    $("card-calls-sub").textContent = fmtInt(t.failedCalls) + " failed · avg " + fmtInt(t.averageLatencyMs) + " ms";
    setCard("card-estimated-share", fmtShare(t.estimatedShare), t.estimatedShare);
    setCard("card-reported-share", "Reported by providers: " + fmtShare(t.reportedShare), t.reportedShare);
    const note = $("unpriced-note");
    note.hidden = !t.unpricedCalls;
    note.textContent = t.unpricedCalls
      ? fmtInt(t.unpricedCalls) + " of " + fmtInt(t.calls) + " calls have no known price; the cost above leaves them out."
      : "";

    const currency = mainCurrency(t.cost);
    const money = v => fmtMoney(v, currency);
    const series = data.series || [];
    const period = data.bucket === "hour" ? "hour" : "day";
    charts.timeSeries($("chart-tokens-time"), {
      title: "Tokens per " + period, kind: "bar", format: fmtCompact, columns: [period === "hour" ? "Hour" : "Day", "Tokens"],
      desc: "Bar chart of total tokens per " + period + ", " + series.length + " " + period + "s with calls, at most " + fmtInt(Math.max(0, ...series.map(s => s.totalTokens))) + " tokens.",
      points: series.map(s => ({ label: bucketLabel(s.bucket, period), short: bucketShort(s.bucket, period), value: s.totalTokens })),
    });
    charts.timeSeries($("chart-cost-time"), {
      title: "Cost per " + period + " (" + currency + ")", kind: "line", format: money, columns: [period === "hour" ? "Hour" : "Day", "Cost"],
      desc: "Line chart of cost in " + currency + " per " + period + ", total " + money(((t.cost || {})[currency]) || 0) + ".",
      points: series.map(s => ({ label: bucketLabel(s.bucket, period), short: bucketShort(s.bucket, period), value: ((s.cost || {})[currency]) || 0 })),
    });
    const models = data.byModel || [];
    charts.categories($("chart-tokens-model"), {
      title: "Tokens by model", format: fmtCompact, columns: ["Model", "Tokens"],
      desc: "Horizontal bar chart of total tokens for the " + models.length + " models with the highest cost.",
      items: models.map(g => ({ label: keyLabel(g.key), value: g.totalTokens })),
    });
    charts.categories($("chart-cost-model"), {
      title: "Cost by model (" + currency + ")", format: money, columns: ["Model", "Cost"], alt: true,
      desc: "Horizontal bar chart of cost in " + currency + " per model.",
      items: models.map(g => ({ label: keyLabel(g.key), value: ((g.cost || {})[currency]) || 0 })),
    });

    const users = $("top-users");
    users.replaceChildren(...(data.topUsers || []).map(g => {
      const tr = el("tr", { "data-testid": "top-user-row" });
      tr.append(cell(keyLabel(g.key), "id"), cell(fmtInt(g.calls), "num"), cell(fmtInt(g.totalTokens), "num"), cell(fmtCost(g.cost), "num"));
      return tr;
    }));
    if (!users.children.length) users.append(emptyRow(4, "No calls in this time range."));

    const sessions = $("top-sessions");
    const range = query.get("range");
    sessions.replaceChildren(...(data.topSessions || []).map(s => {
      const tr = el("tr", { "data-testid": "top-session-row" });
      const td = el("td", { class: "id" });
      td.append(el("a", { href: sessionUrl(s.sessionId, range) }, s.sessionId));
      tr.append(td, cell(s.lastModel || "—"), cell(fmtInt(s.calls), "num"), cell(fmtInt(s.totalTokens), "num"), cell(fmtCost(s.cost), "num"));
      return tr;
    }));
    if (!sessions.children.length) sessions.append(emptyRow(5, "No sessions in this time range."));
    $("all-sessions").setAttribute("href", base + "/sessions" + (range ? "?range=" + encodeURIComponent(range) : ""));
  }

  function emptyRow(span, text) {
    const tr = el("tr");
    tr.append(el("td", { colspan: span, class: "note" }, text));
    return tr;
  }

  // ---- sessions list --------------------------------------------------------------------------------------------------

  const PAGE_SIZE = 20;

  function setupSessions() {
    const sort = $("sort");
    const s = query.get("sort");
    if (s === "cost" || s === "tokens") sort.value = s;
    let offset = Math.max(0, parseInt(query.get("offset") || "0", 10) || 0);
    let reload;

    async function load() {
      const data = await api("sessions", Object.assign(timeWindow(), { sort: sort.value, limit: PAGE_SIZE, offset: offset }));
      const list = data.sessions || [];
      const range = query.get("range");
      $("sessions").replaceChildren(...list.map(item => {
        const tr = el("tr", { "data-testid": "session-row" });
        const id = el("td", { class: "id" });
        id.append(el("a", { href: sessionUrl(item.sessionId, range) }, item.sessionId));
        tr.append(id, cell(fmtTime(item.updatedAt)), cell((item.models || []).join(", ") || item.lastModel || "—"),
          cell(fmtInt(item.calls), "num"), cell(fmtInt(item.totalTokens), "num"), cell(fmtCost(item.cost), "num"), cell(fmtShare(item.estimatedShare), "num"));
        return tr;
      }));
      $("empty").hidden = list.length > 0;
      $("prev").disabled = offset <= 0;
      $("next").disabled = !data.hasMore;
      $("page-info").textContent = list.length ? (offset + 1) + "–" + (offset + list.length) : "";
    }

    sort.addEventListener("change", () => { offset = 0; setQuery({ sort: sort.value === "updated" ? null : sort.value, offset: null }); reload(); });
    $("prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE_SIZE); setQuery({ offset: offset || null }); reload(); });
    $("next").addEventListener("click", () => { offset += PAGE_SIZE; setQuery({ offset: offset }); reload(); });
    setupRange(() => { offset = 0; reload(); });
    reload = setupRefresh(load);
  }

  // ---- one session (deep link) ----------------------------------------------------------------------------------------

  function roundStatus(r) {
    const text = r.status + (r.httpStatus ? " (" + r.httpStatus + ")" : "") + (r.errorType ? " " + r.errorType : "");
    return el("td", { class: r.status === "ok" ? "status-ok" : "status-bad" }, text);
  }

  function contentRow(r, span) {
    const c = r.content;
    const tr = el("tr", { class: "content-row", "data-testid": "round-content" });
    const td = el("td", { colspan: span });
    const details = el("details");
    details.append(el("summary", {}, "Content (question, answer, tool calls)"));
    const dl = el("dl");
    for (const [label, text] of [["Question", c.question], ["Answer", c.answer], ["Reasoning", c.reasoning]]) {
      if (text) { dl.append(el("dt", {}, label)); const dd = el("dd"); dd.append(el("pre", {}, text)); dl.append(dd); }
    }
    for (const call of c.toolCalls || []) {
      dl.append(el("dt", {}, "Tool call " + (call.name || "")));
      const dd = el("dd");
      dd.append(el("pre", {}, call.arguments || ""));
      dl.append(dd);
    }
    details.append(dl);
    td.append(details);
    tr.append(td);
    return tr;
  }

  function setupSession() {
    const id = body.dataset.sessionId || "";
    const link = $("session-link");
    link.value = location.href;
    $("copy-link").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(location.href);
        $("copy-link").textContent = "Link copied";
      } catch {
        // No clipboard permission (plain http, some browsers): select the link so the user can copy it.
        link.focus();
        link.select();
        $("copy-link").textContent = "Press Ctrl+C to copy";
      }
    });

    async function load() {
      let data;
      try {
        data = await api("sessions/" + encodeURIComponent(id), {});
      } catch (err) {
        if (err instanceof HttpError && err.status === 404) {
          $("summary").hidden = true;
          $("rounds-section").hidden = true;
          showError("No session with this id has been recorded (or it is older than the data kept).");
          return;
        }
        throw err;
      }
      const s = data.session;
      $("summary").hidden = false;
      $("rounds-section").hidden = false;
      $("session-tokens").textContent = fmtInt(s.totalTokens);
      $("session-tokens").dataset.value = String(s.totalTokens);
      $("session-tokens-sub").textContent = "in " + fmtCompact(s.inputTokens) + " · out " + fmtCompact(s.outputTokens) + " · estimated " + fmtShare(s.estimatedShare);
      $("session-cost").textContent = fmtCost(s.cost);
      $("session-calls").textContent = fmtInt(s.calls);
      $("session-calls-sub").textContent = fmtInt(s.failedCalls) + " failed";
      $("session-span").textContent = fmtTime(s.createdAt) + " – " + fmtTime(s.updatedAt);
      $("session-models").textContent = (s.models || []).join(", ");
      $("rounds-truncated").hidden = !data.roundsTruncated;

      const rows = [];
      for (const [i, r] of (data.rounds || []).entries()) {
        const tr = el("tr", { "data-testid": "round-row", "data-source": r.source });
        const model = el("td", { class: "id" }, r.model || r.requestModel || "—");
        if (r.source && r.source !== "reported") model.append(el("span", { class: "badge", "data-testid": "estimated-badge", title: "Usage " + r.source + ", not reported by the provider" }, r.source));
        if (r.streaming) model.append(el("span", { class: "badge" }, "stream"));
        const latency = (r.durationMs != null ? fmtInt(r.durationMs) + " ms" : "—") + (r.timeToFirstChunkMs != null ? " (first " + fmtInt(r.timeToFirstChunkMs) + " ms)" : "");
        // The row number; a tool loop's round index (0, 1, ...) is shown beside it when the call had several rounds.
        tr.append(cell(String(i + 1) + (r.roundIndex != null ? " · r" + r.roundIndex : "")), cell(fmtTime(r.timestamp)), model, cell(fmtInt(r.inputTokens), "num"), cell(fmtInt(r.outputTokens), "num"),
          cell(fmtInt(r.cachedInputTokens), "num"), cell(fmtInt(r.reasoningTokens), "num"),
          cell(r.cost != null ? fmtMoney(r.cost, r.currency || "USD") : "unpriced", "num"), cell(latency, "num"), roundStatus(r));
        rows.push(tr);
        if (r.content && (r.content.question || r.content.answer || r.content.reasoning || (r.content.toolCalls || []).length)) rows.push(contentRow(r, 10));
      }
      $("rounds").replaceChildren(...rows);
    }

    setupRefresh(load);
  }

  // ---- settings -------------------------------------------------------------------------------------------------------

  const FIELDS = [
    ["enabled", "Enabled", "f-enabled"],
    ["estimateMissingUsage", "Estimate missing usage", "f-estimate"],
    ["captureContent", "Capture content", "f-content"],
    ["samplingRatio", "Sampling ratio", "f-sampling"],
    ["disabledExporters", "Disabled exporters", null],
  ];

  function showSetting(value) {
    if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
    if (typeof value === "boolean") return value ? "on" : "off";
    return value === undefined || value === null ? "—" : String(value);
  }

  function setupSettings() {
    let current = null;
    const form = $("settings-form");
    const result = $("settings-result");
    const errors = $("settings-errors");

    function render(data) {
      current = data.current;
      $("settings-version").textContent = String(data.version);
      $("settings-rows").replaceChildren(...FIELDS.map(([name, label]) => {
        const tr = el("tr", { "data-testid": "setting-row-" + name });
        tr.append(el("th", { scope: "row" }, label), cell(showSetting(data.current[name])), cell(showSetting((data.configured || {})[name])));
        return tr;
      }));
      $("f-enabled").checked = !!current.enabled;
      $("f-estimate").checked = !!current.estimateMissingUsage;
      $("f-content").checked = !!current.captureContent;
      $("f-sampling").value = String(current.samplingRatio);
      const box = $("exporters");
      box.querySelectorAll("label").forEach(l => l.remove());
      const disabled = new Set(current.disabledExporters || []);
      for (const name of data.exporters || []) {
        const label = el("label", { class: "check" });
        const input = el("input", { type: "checkbox", name: "disabledExporter", value: name, "data-testid": "setting-exporter" });
        input.checked = disabled.has(name);
        label.append(input, document.createTextNode(" " + name));
        box.append(label);
      }
      $("no-exporters").hidden = (data.exporters || []).length > 0;
    }

    function showErrors(list) {
      errors.replaceChildren(...list.map(e => el("li", {}, e)));
      errors.hidden = list.length === 0;
    }

    // Only what the user changed goes into the PATCH, so a concurrent change to another setting is not overwritten.
    function changes() {
      const patch = {};
      const enabled = $("f-enabled").checked, estimate = $("f-estimate").checked, content = $("f-content").checked;
      if (enabled !== current.enabled) patch.enabled = enabled;
      if (estimate !== current.estimateMissingUsage) patch.estimateMissingUsage = estimate;
      if (content !== current.captureContent) patch.captureContent = content;
      const raw = $("f-sampling").value.trim();
      const ratio = raw === "" ? NaN : Number(raw);
      if (raw !== "" && ratio !== current.samplingRatio) patch.samplingRatio = Number.isNaN(ratio) ? raw : ratio;
      const exporters = [...form.querySelectorAll("input[name=disabledExporter]:checked")].map(i => i.value).sort();
      const before = [...(current.disabledExporters || [])].sort();
      if (exporters.join("\n") !== before.join("\n")) patch.disabledExporters = exporters;
      return patch;
    }

    form.addEventListener("submit", async ev => {
      ev.preventDefault();
      showErrors([]);
      const patch = changes();
      if (!Object.keys(patch).length) {
        result.textContent = "Nothing changed.";
        return;
      }
      const reason = $("f-reason").value.trim();
      if (reason) patch.reason = reason;
      result.textContent = "Saving…";
      try {
        const headers = { "Content-Type": "application/json", Accept: "application/json" };
        headers[csrfHeader] = csrfToken;
        const data = await api("settings", {}, { method: "PATCH", headers: headers, body: JSON.stringify(patch) });
        render(data);
        $("f-reason").value = "";
        result.textContent = "Saved: now version " + data.version + ".";
      } catch (err) {
        result.textContent = "Not saved.";
        const b = err instanceof HttpError ? err.body || {} : {};
        const list = Array.isArray(b.errors) ? b.errors.map(String)
          : b.errors && typeof b.errors === "object" ? Object.values(b.errors).flat().map(String) : [];
        showErrors(list.length ? list : [errorText(err)]);
      }
    });

    api("settings").then(render, err => showError(errorText(err))).finally(() => {
      body.dataset.loaded = String(Number(body.dataset.loaded || "0") + 1);
    });
  }

  // ---- start ----------------------------------------------------------------------------------------------------------

  document.querySelectorAll("[data-nav]").forEach(a => {
    if (a.dataset.nav === page || (page === "session" && a.dataset.nav === "sessions")) a.setAttribute("aria-current", "page");
  });

  if (page === "overview") {
    let reload;
    setupRange(() => reload());
    reload = setupRefresh(loadOverview);
  } else if (page === "sessions") {
    setupSessions();
  } else if (page === "session") {
    setupSession();
  } else if (page === "settings") {
    setupSettings();
  }
})();
