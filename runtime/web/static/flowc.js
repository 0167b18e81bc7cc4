/* flowc dashboards: the glue between flowc's REST API and plotly.js.
 *
 * The server renders each page's frame and a JSON config (#flowc-config); this script
 * fills it from the API: `fetch` for records, metrics and history, one EventSource per
 * pipeline stream for new batches. plotly.js (served from the `plotly` Python package)
 * draws every chart. A `token` in the page's address is passed on to the API.
 */
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("flowc-config").textContent);
  const token = new URLSearchParams(window.location.search).get("token");
  const MAX_STREAMS = 4; // browsers allow 6 connections per host over HTTP/1.1

  // ---- the API ----

  function apiUrl(path, params = {}) {
    const url = new URL(config.api + path, window.location.href);
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, value);
    }
    return url;
  }

  async function getJSON(path, params) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(apiUrl(path, params), { headers, cache: "no-store" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText} from ${path}`);
    return response.json();
  }

  const pipelinePath = (name, rest = "") => `/pipelines/${encodeURIComponent(name)}${rest}`;

  // ---- the live indicator in the top bar ----

  const status = {
    el: document.getElementById("live"),
    streams: new Map(),
    failed: null,
    polling: false,
    stream(name, state) {
      this.streams.set(name, state);
      this.render();
    },
    ok() {
      if (this.failed !== null) {
        this.failed = null;
        this.render();
      }
    },
    fail(error) {
      console.warn(error);
      this.failed = String(error.message || error);
      this.render();
    },
    render() {
      if (!this.el) return;
      const states = [...this.streams.values()];
      let state = "idle";
      let text = "loading…";
      if (this.failed !== null) {
        state = "down";
        text = "API unreachable, retrying";
      } else if (states.length && states.every((s) => s === "open")) {
        state = "live";
        text = "live";
      } else if (states.some((s) => s !== "open")) {
        state = "down";
        text = "connecting to the stream…";
      } else if (this.polling) {
        state = "polling";
        text = `updating every ${config.poll}s`;
      }
      this.el.dataset.state = state;
      const label = this.el.querySelector(".text");
      if (label.textContent !== text) label.textContent = text;
    },
  };

  /** Subscribe to a pipeline's batches; reopens by itself if the server closes it. */
  function openStream(name, onBatch) {
    let source = null;
    const connect = () => {
      source = new EventSource(apiUrl(pipelinePath(name, "/stream"), { token }));
      status.stream(name, "connecting");
      source.addEventListener("open", () => status.stream(name, "open"));
      source.addEventListener("error", () => {
        status.stream(name, "connecting");
        if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
      });
      source.addEventListener("batch", (event) => {
        let batch;
        try {
          batch = JSON.parse(event.data);
        } catch (error) {
          console.warn("a batch that is not JSON", error);
          return;
        }
        onBatch(batch);
      });
    };
    connect();
    window.addEventListener("pagehide", () => source && source.close());
  }

  /** Run `task` now and every `seconds`, never two at once; failures show in the top bar. */
  function every(seconds, task) {
    const run = async () => {
      try {
        await task();
        status.ok();
      } catch (error) {
        status.fail(error);
      } finally {
        setTimeout(run, seconds * 1000);
      }
    };
    run();
  }

  // ---- values ----

  const numbers = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
  const rates = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  const TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

  /** A Date from an ISO timestamp; one without an offset is UTC, as flowc's are. */
  function parseTime(value) {
    if (typeof value !== "string" || !TIME.test(value)) return null;
    let text = value.replace(" ", "T");
    if (!/(Z|[+-]\d{2}:?\d{2})$/.test(text)) text += "Z";
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? null : date;
  }

  /** The form plotly reads as a date: UTC, without an offset (plotly has no time zones). */
  const plotTime = (date) => date.toISOString().replace("T", " ").replace("Z", "");
  const showTime = (date) => date.toISOString().replace("T", " ").replace(/(\.\d+)?Z$/, "");

  function ago(date) {
    const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (seconds < 60) return `${seconds}s ago`;
    if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
    if (seconds < 86400) return `${Math.round(seconds / 3600)}h ago`;
    return `${Math.round(seconds / 86400)}d ago`;
  }

  /** A table cell for a value: text, and a class for nulls, numbers and JSON. */
  function cell(value) {
    const td = document.createElement("td");
    if (value === null || value === undefined) {
      td.className = "null";
      td.textContent = "null";
    } else if (typeof value === "number") {
      td.className = "num";
      td.textContent = numbers.format(value);
    } else if (typeof value === "object") {
      td.className = "json";
      td.textContent = JSON.stringify(value);
    } else {
      const date = parseTime(value);
      td.textContent = date ? showTime(date) : String(value);
    }
    return td;
  }

  /** A chart's x value: timestamps as plotly dates, anything else as it is. */
  function xValue(value) {
    const date = parseTime(value);
    return date ? plotTime(date) : value;
  }

  // ---- tables of records ----

  class RecordTable {
    constructor(table, fields, limit) {
      this.body = table.tBodies[0];
      this.count = table.querySelector("[data-count]");
      this.fields = fields;
      this.limit = limit;
    }

    row(record, fresh) {
      const tr = document.createElement("tr");
      if (fresh) tr.className = "new";
      for (const field of this.fields) tr.append(cell(record[field]));
      return tr;
    }

    /** Replace the rows with `records`, newest first. */
    set(records) {
      this.body.replaceChildren(...records.slice(0, this.limit).map((r) => this.row(r, false)));
      this.update();
    }

    /** Put a batch's records (oldest first, as they were processed) on top. */
    prepend(records) {
      const newest = records.slice(-this.limit).reverse();
      const rows = document.createDocumentFragment();
      rows.append(...newest.map((r) => this.row(r, true)));
      this.body.prepend(rows);
      while (this.body.rows.length > this.limit) this.body.lastElementChild.remove();
      this.update();
    }

    update() {
      if (this.count) this.count.textContent = String(this.body.rows.length);
    }
  }

  // ---- charts ----

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function baseLayout(extra = {}) {
    const axis = { gridcolor: cssVar("--grid"), linecolor: cssVar("--line"), zeroline: false, automargin: true };
    return {
      margin: { l: 44, r: 12, t: 8, b: 30 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: getComputedStyle(document.body).fontFamily, size: 12, color: cssVar("--text") },
      xaxis: { ...axis },
      yaxis: { ...axis },
      legend: { orientation: "h", x: 0, y: 1, yanchor: "bottom", font: { size: 11 } },
      hovermode: "closest",
      uirevision: "keep", // a zoom or a hidden series stays as the user left it
      ...extra,
    };
  }

  const plotConfig = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  };

  /** One chart: points per series, kept in order of x, drawn at most once a frame. */
  class Chart {
    /**
     * options: kind (line|bar|area|scatter), time (x is a timestamp), range (seconds of
     * x shown, ending now), max (points kept per series), empty (text while empty).
     */
    constructor(el, options) {
      this.el = el;
      this.options = { kind: "line", time: true, range: null, max: 2000, empty: "waiting for records…", ...options };
      this.series = new Map();
      this.pending = false;
    }

    /** Replace everything with `groups`: [{name, points: [{x, y}]}]. */
    set(groups) {
      this.series = new Map();
      for (const group of groups) this.add(group.name, group.points);
      this.draw();
    }

    /** Add points to a series; a point it has (same x and y) is not added twice, so
     * records read again after the stream brought them do not double. */
    add(name, points) {
      let series = this.series.get(name);
      if (!series) {
        series = new Map();
        this.series.set(name, series);
      }
      for (const point of points) {
        if (point.x === null || point.x === undefined || point.y === null || point.y === undefined) continue;
        series.set(`${point.x}|${point.y}`, point);
      }
    }

    /** Add records, split by the `series` field if there is one. */
    addRecords(records, x, y, seriesField) {
      const groups = new Map();
      for (const record of records) {
        const name = seriesField ? String(record[seriesField]) : y;
        if (!groups.has(name)) groups.set(name, []);
        groups.get(name).push({ x: xValue(record[x]), y: record[y] });
      }
      for (const [name, points] of groups) this.add(name, points);
      this.draw();
    }

    get points() {
      let n = 0;
      for (const series of this.series.values()) n += series.size;
      return n;
    }

    /** The window [now - range, now], and what falls before it goes. */
    window() {
      if (!this.options.time || !this.options.range) return null;
      let end = Date.now();
      for (const series of this.series.values()) {
        for (const point of series.values()) {
          const t = Date.parse(`${point.x.replace(" ", "T")}Z`);
          if (t > end) end = t;
        }
      }
      const cut = plotTime(new Date(end - this.options.range * 1000));
      for (const series of this.series.values()) {
        for (const [key, point] of series) if (point.x < cut) series.delete(key);
      }
      return [cut, plotTime(new Date(end))];
    }

    traces() {
      const { kind, max } = this.options;
      const traces = [];
      const names = [...this.series.keys()].sort();
      for (const name of names) {
        const points = [...this.series.get(name).values()];
        points.sort((a, b) => (a.x < b.x ? -1 : a.x > b.x ? 1 : 0));
        const kept = points.slice(-max);
        if (kept.length < points.length) {
          this.series.set(name, new Map(kept.map((p) => [`${p.x}|${p.y}`, p])));
        }
        const trace = { name, x: kept.map((p) => p.x), y: kept.map((p) => p.y) };
        if (kind === "bar") trace.type = "bar";
        else {
          trace.type = "scatter";
          trace.mode = kind === "scatter" ? "markers" : kept.length > 80 ? "lines" : "lines+markers";
          if (kind === "area") {
            trace.fill = "tozeroy";
            trace.line = { width: 1.5 };
          }
          if (kind === "scatter") trace.marker = { size: 6, opacity: 0.8 };
        }
        traces.push(trace);
      }
      return traces;
    }

    draw() {
      if (this.pending) return;
      this.pending = true;
      window.requestAnimationFrame(() => {
        this.pending = false;
        const range = this.window();
        const traces = this.traces();
        const layout = baseLayout({ showlegend: traces.length > 1, barmode: "group" });
        if (this.options.time) layout.xaxis.type = "date";
        if (range) layout.xaxis.range = range;
        if (!traces.some((t) => t.x.length)) {
          layout.annotations = [{ text: this.options.empty, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: cssVar("--muted") } }];
        }
        window.Plotly.react(this.el, traces, layout, plotConfig);
        this.el.dataset.points = String(this.points);
      });
    }
  }

  /** A sparkline: one small line, no axes, nothing to click. */
  function sparkline(el, xs, ys) {
    const color = cssVar("--accent");
    const trace = {
      x: xs,
      y: ys,
      type: "scatter",
      mode: ys.length < 3 ? "lines+markers" : "lines", // one point is a dot, not nothing
      line: { width: 1.5, color },
      marker: { size: 4, color },
      fill: "tozeroy",
      fillcolor: "rgba(68,147,248,0.12)",
      hoverinfo: "skip",
    };
    const layout = {
      margin: { l: 0, r: 0, t: 2, b: 2 },
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      xaxis: { visible: false, fixedrange: true },
      yaxis: { visible: false, fixedrange: true, rangemode: "tozero" },
      showlegend: false,
    };
    window.Plotly.react(el, [trace], layout, { staticPlot: true, responsive: false });
    el.dataset.points = String(ys.length);
  }

  // ---- history from the store ----

  const NICE = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

  /** A round bucket giving about `points` buckets over `seconds`. */
  function bucketFor(seconds, points = 120) {
    const wanted = seconds / points;
    return NICE.find((b) => b >= wanted) || 86400;
  }

  const duration = (seconds) => {
    for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]]) {
      if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
    }
    return `${seconds}s`;
  };

  /** A pipeline's history: GET /series, `agg` of `field` per bucket over the last
   * `seconds`, split by the field `by` where the API can (it then answers with `by` and
   * a `group` on each point). Groups of points, or null when `by` was not honoured. */
  async function history(name, { seconds, agg, field, bucket, by }) {
    const end = new Date();
    const params = {
      from: new Date(end.getTime() - seconds * 1000).toISOString(),
      to: end.toISOString(),
      bucket: duration(bucket || bucketFor(seconds)),
      agg,
      field,
      by,
    };
    const answer = await getJSON(pipelinePath(name, "/series"), params);
    if (by && answer.by !== by) return null;
    const groups = new Map();
    for (const p of answer.points || []) {
      const group = by ? String(p.group) : field || "records";
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push({ x: xValue(p.time ?? p.t), y: p.value });
    }
    if (!groups.size) groups.set(field || "records", []);
    return [...groups].map(([groupName, points]) => ({ name: groupName, points }));
  }

  // ---- metrics ----

  function fill(root, entry) {
    const metrics = entry.metrics || {};
    const values = {
      status: entry.status,
      records_per_minute: entry.records_per_minute,
      records_in: metrics.records_in,
      records_out: metrics.records_out,
      rejected: metrics.rejected,
      last_run: entry.last_run,
      last_error: entry.last_error,
    };
    for (const el of root.querySelectorAll("[data-field]")) {
      const key = el.dataset.field;
      if (!(key in values)) continue;
      const value = values[key];
      let text;
      if (key === "status") {
        text = value || "unknown";
        el.dataset.status = text;
      } else if (key === "last_run") {
        const date = parseTime(value);
        text = date ? ago(date) : "never";
        el.title = date ? showTime(date) + " UTC" : "";
      } else if (key === "last_error") {
        text = value || "none";
        el.classList.toggle("error", Boolean(value));
      } else if (key === "records_per_minute") {
        text = typeof value === "number" ? rates.format(value) : "–";
      } else {
        text = typeof value === "number" ? numbers.format(value) : "–";
      }
      if (el.textContent !== text) el.textContent = text;
    }
  }

  async function pipelines() {
    const answer = await getJSON("/pipelines");
    return Array.isArray(answer) ? answer : answer.pipelines || [];
  }

  // ---- pages ----

  function overviewPage() {
    status.polling = true;
    status.render();
    const rows = new Map([...document.querySelectorAll("tr[data-pipeline]")].map((tr) => [tr.dataset.pipeline, tr]));
    const samples = new Map(); // records per minute seen by polling, for pipelines not stored
    const stored = new Map(config.pipelines.map((p) => [p.name, p.persisted && p.time]));
    let polls = 0;

    every(config.poll, async () => {
      const entries = await pipelines();
      for (const entry of entries) {
        const row = rows.get(entry.name);
        if (!row) continue;
        fill(row, entry);
        if (!stored.get(entry.name)) {
          const ring = samples.get(entry.name) || { x: [], y: [] };
          ring.x.push(plotTime(new Date()));
          ring.y.push(entry.records_per_minute || 0);
          if (ring.x.length > 3600 / config.poll) {
            ring.x.shift();
            ring.y.shift();
          }
          samples.set(entry.name, ring);
          sparkline(row.querySelector("[data-spark]"), ring.x, ring.y);
        }
      }
      // The stored pipelines' sparklines: records per minute over the last hour.
      if (polls++ % Math.max(1, Math.round(30 / config.poll)) === 0) {
        await Promise.all(
          [...stored].filter(([, s]) => s).map(async ([name]) => {
            const [group] = await history(name, { seconds: 3600, agg: "count", bucket: 60 }).catch(() => [null]);
            if (!group) return;
            // The minute going on is not over: its count, as is, would dip at the end of
            // the line, so it is scaled to a whole minute (once 10 s of it are in).
            const now = Date.now();
            const minute = plotTime(new Date(Math.floor(now / 60000) * 60000));
            const elapsed = (now % 60000) / 1000;
            const shown = group.points
              .filter((p) => p.x < minute || elapsed >= 10)
              .map((p) => (p.x < minute ? p : { x: p.x, y: (p.y * 60) / elapsed }));
            sparkline(rows.get(name).querySelector("[data-spark]"), shown.map((p) => p.x), shown.map((p) => p.y));
          }),
        );
      }
    });
  }

  function pipelinePage() {
    const p = config.pipeline;
    const name = p.name;
    const table = new RecordTable(document.getElementById("records"), p.fields.map((f) => f.name), config.records);

    every(config.poll, async () => {
      const entry = (await pipelines()).find((e) => e.name === name);
      if (entry) fill(document.querySelector("main"), entry);
    });

    // Live: each record's chosen value, and the size of each batch.
    const valuesEl = document.getElementById("live-values");
    const fieldSelect = document.getElementById("live-field");
    const timeField = p.time;
    const values = valuesEl && new Chart(valuesEl, { kind: "scatter", time: Boolean(timeField), max: 500 });
    const batches = new Chart(document.getElementById("live-batches"), { kind: "bar", max: 120, empty: "waiting for the next batch…" });
    let recent = [];
    const plotValues = () => {
      if (!values) return;
      values.series = new Map();
      values.addRecords(recent, timeField || "__at", fieldSelect.value, null);
    };
    if (fieldSelect) fieldSelect.addEventListener("change", plotValues);

    const start = async () => {
      try {
        const answer = config.records > 0 ? await getJSON(pipelinePath(name, "/records"), { limit: config.records }) : {};
        const records = answer.records || [];
        table.set(records);
        recent = records.slice().reverse();
        plotValues();
        status.ok();
      } catch (error) {
        status.fail(error);
      }
      batches.draw();
      openStream(name, (batch) => {
        const records = batch.records || [];
        const at = batch.at ? xValue(batch.at) : plotTime(new Date());
        if (!timeField) for (const r of records) r.__at = at;
        table.prepend(records);
        recent = recent.concat(records).slice(-500);
        if (values) values.addRecords(records, timeField || "__at", fieldSelect.value, null);
        batches.add("records", [{ x: at, y: batch.count ?? records.length }]);
        batches.draw();
      });
    };
    start();

    // History: from the store, over the chosen range.
    const historyEl = document.getElementById("history");
    if (historyEl) {
      const chart = new Chart(historyEl, { kind: "line", empty: "nothing stored in this range" });
      const measure = document.getElementById("history-measure");
      const caption = document.getElementById("history-caption");
      const load = async () => {
        const label = document.querySelector('#history-range input:checked').value;
        const seconds = config.ranges[label];
        const field = measure.value;
        chart.options.range = seconds;
        const groups = await history(name, { seconds, agg: field ? "avg" : "count", field });
        chart.set(groups);
        const per = duration(bucketFor(seconds));
        caption.textContent = field
          ? `Average ${field} per ${per}, the last ${label}, from the store`
          : `Records per ${per}, the last ${label}, from the store`;
      };
      const reload = () => load().then(() => status.ok(), (error) => status.fail(error));
      for (const input of document.querySelectorAll("#history-range input")) input.addEventListener("change", reload);
      measure.addEventListener("change", reload);
      every(30, load);
    }

    // Dead letters.
    const deadTable = document.getElementById("dead-letters");
    const dead = new RecordTable(deadTable, ["at", "rule", "action", "reason", "record"], 50);
    const empty = document.getElementById("dead-empty");
    every(Math.max(10, config.poll * 3), async () => {
      const answer = await getJSON("/dead-letters", { pipeline: name, limit: 50 });
      const letters = Array.isArray(answer) ? answer : answer.dead_letters || answer.records || [];
      dead.set(letters);
      empty.hidden = letters.length > 0;
      deadTable.hidden = letters.length === 0;
    });
  }

  function dashboardPage() {
    const charts = [];
    const tables = [];
    const byPipeline = new Map();
    const use = (name) => {
      if (!byPipeline.has(name)) byPipeline.set(name, { charts: [], tables: [] });
      return byPipeline.get(name);
    };
    config.items.forEach((item, index) => {
      if (item.kind === "chart") {
        const el = document.querySelector(`[data-chart="${index}"]`);
        const time = item.x_type.replace("?", "") === "timestamp" || item.x_type.replace("?", "") === "date";
        const chart = new Chart(el, { kind: item.chart, time, range: item.range });
        const entry = { item, chart };
        charts.push(entry);
        use(item.from).charts.push(entry);
      } else {
        const el = document.querySelector(`[data-table="${index}"]`);
        const entry = { item, table: new RecordTable(el, item.fields.map((f) => f.name), item.last) };
        tables.push(entry);
        use(item.from).tables.push(entry);
      }
    });

    // Charts over a stored pipeline's time column read their history from the store, split
    // by their `series` field; if the API cannot split, from the cached records instead.
    const stored = (item) => item.persisted && item.range && item.time && item.x === item.time && item.split !== false;

    /** A chart's history. From the store (/series): it replaces what the chart holds. Else
     * from the pipeline's cached records, added to the points the stream brought, so the
     * chart grows to its range while the page is open. */
    const loadChart = async ({ item, chart }) => {
      if (stored(item)) {
        const groups = await history(item.from, { seconds: item.range, agg: "avg", field: item.y, by: item.series });
        if (groups) {
          chart.set(groups);
          return;
        }
        item.split = false;
      }
      if (item.cache < 1) return;
      const answer = await getJSON(pipelinePath(item.from, "/records"), { limit: item.cache });
      chart.addRecords((answer.records || []).slice().reverse(), item.x, item.y, item.series);
    };
    const loadTable = async ({ item, table }) => {
      if (item.cache < 1) return;
      const answer = await getJSON(pipelinePath(item.from, "/records"), { limit: Math.min(item.last, item.cache) });
      table.set(answer.records || []);
    };

    const names = [...byPipeline.keys()];
    const streamed = new Set(names.slice(0, MAX_STREAMS));
    const live = (name) => streamed.has(name) && status.streams.get(name) === "open";
    /** Re-read what the stream does not bring: history from the store, and everything of
     * a pipeline whose stream is not open (or not opened: past the limit). */
    const refresh = (all) =>
      Promise.all([
        ...charts.filter((c) => all || stored(c.item) || !live(c.item.from)).map(loadChart),
        ...tables.filter((t) => all || !live(t.item.from)).map(loadTable),
      ]);
    (async () => {
      try {
        await refresh(true);
        status.ok();
      } catch (error) {
        status.fail(error);
      }
      for (const name of streamed) {
        const { charts: mine, tables: theirs } = byPipeline.get(name);
        openStream(name, (batch) => {
          const records = batch.records || [];
          for (const { item, chart } of mine) chart.addRecords(records, item.x, item.y, item.series);
          for (const { table } of theirs) table.prepend(records);
        });
      }
      setTimeout(() => every(config.refresh, () => refresh(false)), config.refresh * 1000);
    })();
  }

  const pages = { overview: overviewPage, pipeline: pipelinePage, dashboard: dashboardPage };
  const page = pages[config.page];
  if (page) {
    if (window.Plotly) page();
    else status.fail(new Error("plotly.js did not load"));
  }
})();
