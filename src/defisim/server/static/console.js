// defisim live console: renders the frames of /console/frame and /console/ws
// (defisim.server.console_frame describes a frame). No external resources.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  // the operator's token: taken from ?token= once, kept in this tab's session storage
  let token = sessionStorage.getItem("defisim-token") || "";
  if (params.has("token")) {
    token = params.get("token");
    sessionStorage.setItem("defisim-token", token);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
  }
  const authHeaders = () => (token ? { Authorization: "Bearer " + token } : {});

  const fmt = (x, digits) =>
    x === null || x === undefined || Number.isNaN(x) ? "–"
      : Number(x).toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 4 : digits });
  function duration(s) {
    if (s === null || s === undefined) return "–";
    const d = Math.floor(s / 86400), r = s - d * 86400;
    const h = Math.floor(r / 3600), m = Math.floor((r % 3600) / 60), sec = Math.floor(r % 60);
    const pad = (v) => String(v).padStart(2, "0");
    return (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(sec);
  }
  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function fill(tbody, rows, make) {
    const frag = document.createDocumentFragment();
    for (const r of rows) { const tr = document.createElement("tr"); make(tr, r); frag.appendChild(tr); }
    tbody.replaceChildren(frag);
  }
  const signed = (x) => (x > 0 ? "pos" : x < 0 ? "neg" : "");

  // ------------------------------------------------------------------ the chart
  let unit = null; // [seconds per x unit, axis title]
  const traceOf = {}; // series key -> trace index
  let nTraces = 0;
  let markerCount = -1;
  let cursorX = null;
  const STYLE = { mark: { width: 2 }, reference: { width: 1.5, dash: "dot", color: "#555" },
    bid: { width: 1, color: "#1a7f37" }, ask: { width: 1, color: "#c0392b" } };
  const MARKER_COLOR = { auction: "#e67e22", "auction end": "#f0b27a", closeout: "#c0392b",
    settled: "#2f3fa8", state: "#95a5a6" };

  function chooseUnit(points) {
    const dt = points.length > 1 ? points[1][1] - points[0][1] : 3600;
    unit = dt >= 3600 ? [3600, "simulated time (h)"] : dt >= 60 ? [60, "simulated time (min)"]
      : [1, "simulated time (s)"];
  }
  function traceFor(key) {
    if (key in traceOf) return traceOf[key];
    const kind = key.includes(":") ? key.split(":").pop() : key;
    const name = key === "reference" ? "reference" : key.replace(":", " ");
    Plotly.addTraces("chart", { x: [], y: [], name: name, mode: "lines", line: STYLE[kind] || {},
      connectgaps: false, hovertemplate: "%{y:,.2f}<extra>" + name + "</extra>" });
    traceOf[key] = nTraces++;
    return traceOf[key];
  }
  function initChart() {
    Plotly.newPlot("chart", [], {
      margin: { l: 80, r: 10, t: 10, b: 40 }, xaxis: { title: { text: "" } },
      yaxis: { title: { text: "price" }, tickformat: ",.2f" }, legend: { orientation: "h" },
      shapes: [], hovermode: "x unified",
    }, { responsive: true, displaylogo: false });
  }
  function addPoints(points) {
    if (!points.length) return;
    if (unit === null) { chooseUnit(points); Plotly.relayout("chart", { "xaxis.title.text": unit[1] }); }
    const xs = {}, ys = {};
    for (const [, t, values] of points) {
      for (const key in values) {
        (xs[key] = xs[key] || []).push(t / unit[0]);
        (ys[key] = ys[key] || []).push(values[key]);
      }
    }
    const keys = Object.keys(xs);
    const idx = keys.map(traceFor);
    Plotly.extendTraces("chart", { x: keys.map((k) => xs[k]), y: keys.map((k) => ys[k]) }, idx, 50000);
  }
  function drawMarkers(markers) {
    if (!markers || markers.length === markerCount) return;
    markerCount = markers.length;
    const shapes = markers.slice(-200).map((m) => ({ type: "line", xref: "x", yref: "paper",
      x0: m.time_s / (unit ? unit[0] : 3600), x1: m.time_s / (unit ? unit[0] : 3600), y0: 0, y1: 1,
      line: { color: MARKER_COLOR[m.kind] || "#999", width: 1, dash: m.kind === "state" ? "dot" : "solid" } }));
    if (cursorX !== null) shapes.push({ type: "line", xref: "x", yref: "paper", x0: cursorX, x1: cursorX,
      y0: 0, y1: 1, line: { color: "#000", width: 1 } });
    Plotly.relayout("chart", { shapes: shapes });
    const frag = document.createDocumentFragment();
    for (const m of markers.slice(-200).reverse()) {
      const li = document.createElement("li");
      li.textContent = duration(m.time_s) + " (step " + m.step + ") " +
        (m.market ? m.market + ": " : "") + m.label;
      li.style.color = MARKER_COLOR[m.kind] || "";
      frag.appendChild(li);
    }
    $("markers").replaceChildren(frag);
  }

  // ------------------------------------------------------------------ the frame
  let lastFrame = null;
  function render(f) {
    lastFrame = f;
    $("scenario").textContent = (f.scenario || "") + (f.seed !== null && f.seed !== undefined ? " (seed " + f.seed + ")" : "");
    $("step").textContent = f.step === null ? "–" : String(f.step);
    $("steps").textContent = f.steps === null ? "–" : String(f.steps);
    $("time").textContent = duration(f.time_s);
    const state = f.error ? "stopped" : f.mode === "recorded" ? "recorded" : f.finished ? "finished"
      : f.paused ? "paused" : "running";
    $("control-msg").textContent = f.error ? f.error : $("control-msg").textContent;
    $("state").textContent = state;
    $("state").className = "badge " + state;
    if (f.pace_s && document.activeElement !== $("pace")) {
      const sel = $("pace"), v = String(f.pace_s);
      if (![...sel.options].some((o) => o.value === v)) sel.add(new Option(v + " s", v));
      sel.value = v;
    }
    const m = f.markets[0];
    $("book-market").textContent = m ? m.id + " · " + m.state : "";
    const book = [];
    if (m) {
      const n = Math.max(m.depth.bids.length, m.depth.asks.length);
      for (let i = 0; i < n; i++) book.push([m.depth.bids[i], m.depth.asks[i]]);
      $("market-stats").textContent = "mark " + fmt(m.mark, 2) + " · last " + fmt(m.last, 2) +
        " · open interest " + fmt(m.open_interest, 3) + " · trades " + fmt(m.trades, 0) +
        " · closeouts " + fmt(m.closeouts, 0);
    }
    fill($("book").tBodies[0], book, (tr, [b, a]) => {
      cell(tr, b ? fmt(b[1], 3) : "", "bid"); cell(tr, b ? fmt(b[0], 2) : "", "bid");
      cell(tr, a ? fmt(a[0], 2) : "", "ask"); cell(tr, a ? fmt(a[1], 3) : "", "ask");
    });
    const trades = [];
    for (const mk of f.markets) for (const t of mk.recent_trades) trades.push(t);
    trades.sort((a, b) => b.time_s - a.time_s);
    fill($("trades").tBodies[0], trades.slice(0, 30), (tr, t) => {
      cell(tr, duration(t.time_s)); cell(tr, fmt(t.price, 2), t.aggressor > 0 ? "bid" : "ask");
      cell(tr, fmt(t.size, 3)); cell(tr, t.buyer); cell(tr, t.seller);
    });
    const pos = [];
    for (const mk of f.markets) for (const p of mk.positions) pos.push([mk.id, p]);
    fill($("positions").tBodies[0], pos, (tr, [mid, p]) => {
      cell(tr, p.party); cell(tr, mid); cell(tr, fmt(p.position, 3), signed(p.position));
      cell(tr, fmt(p.entry, 2)); cell(tr, fmt(p.pnl, 2), signed(p.pnl));
    });
    fill($("kpis").tBodies[0], Object.entries(f.kpis || {}), (tr, [k, v]) => { cell(tr, k); cell(tr, fmt(v)); });
    $("pools-box").hidden = !f.pools.length;
    fill($("pools").tBodies[0], f.pools, (tr, p) => {
      cell(tr, p.id); cell(tr, p.kind); cell(tr, fmt(p.price, 6));
      cell(tr, p.reserves.map((r, i) => fmt(r, 2) + " " + (p.assets[i] || "")).join(" / "));
      cell(tr, Object.entries(p.lp).map(([k, v]) => k + " " + fmt(v, 4)).join(", "));
    });
    $("compute-box").hidden = !f.compute;
    if (f.compute) {
      $("compute-open").textContent = "open requests: " + (f.compute.open_requests.join(", ") || "none");
      fill($("negotiations").tBodies[0], f.compute.negotiations || [], (tr, n) => {
        cell(tr, n.topic); cell(tr, n.state); cell(tr, n.participants.join(", "));
        cell(tr, fmt(n.offers, 0)); cell(tr, fmt(n.last_offer, 0));
      });
      fill($("compute").tBodies[0], f.compute.deals, (tr, d) => {
        cell(tr, d.escrow.slice(0, 10)); cell(tr, d.client); cell(tr, d.provider);
        cell(tr, d.state + (d.topic_state ? " / " + d.topic_state : "")); cell(tr, fmt(d.price, 0));
        cell(tr, fmt(d.offers, 0)); cell(tr, fmt(d.last_offer, 0));
      });
    }
    const ext = Object.entries(f.external || {});
    $("external-box").hidden = !ext.length;
    fill($("external").tBodies[0], ext, (tr, [party, ms]) => {
      cell(tr, party);
      cell(tr, Object.entries(ms).map(([k, v]) => k + " " + fmt(v)).join(" · "));
    });
    if (f.history) addPoints(f.history.points);
    if (f.markers) drawMarkers(f.markers);
  }

  // ------------------------------------------------------------------ controls
  async function control(path, body) {
    const res = await fetch(path, { method: "POST", headers: Object.assign(
      { "Content-Type": "application/json" }, authHeaders()), body: JSON.stringify(body || {}) });
    const answer = await res.json().catch(() => ({}));
    $("control-msg").textContent = res.ok ? "" : (answer.error || res.statusText);
    if (res.ok && lastFrame) {
      Object.assign(lastFrame, { paused: answer.ok.paused, finished: answer.ok.finished, pace_s: answer.ok.pace_s });
      $("state").textContent = answer.ok.finished ? "finished" : answer.ok.paused ? "paused" : "running";
      $("state").className = "badge " + $("state").textContent;
    }
    return res.ok;
  }
  $("pause").addEventListener("click", () => control("/console/pause"));
  $("resume").addEventListener("click", () => control("/console/resume"));
  $("step-btn").addEventListener("click", () =>
    control("/console/step", { n: Math.max(1, parseInt($("step-n").value, 10) || 1) }));
  $("pace").addEventListener("change", () => control("/console/speed", { pace_s: parseFloat($("pace").value) }));

  // ------------------------------------------------------------------ feeds
  let since = 0;
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/console/ws?since=" + since);
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      since = f.history.from + f.history.points.length;
      render(f);
    };
    ws.onclose = () => {
      $("state").textContent = lastFrame && lastFrame.finished ? "finished" : "disconnected";
      if (!(lastFrame && lastFrame.finished)) setTimeout(connect, 1000);
    };
  }
  async function recorded() {
    $("mode").textContent = "recorded run";
    const f = await (await fetch("/console/frame")).json();
    render(f);
    const slider = $("slider");
    $("slider-box").hidden = false;
    slider.max = String(f.steps || 0);
    slider.value = String(f.step || 0);
    let pending = null;
    slider.addEventListener("input", () => {
      clearTimeout(pending);
      pending = setTimeout(async () => {
        const g = await (await fetch("/console/frame?history=0&step=" + slider.value)).json();
        cursorX = g.time_s / (unit ? unit[0] : 3600);
        markerCount = -1;
        render(g);
        drawMarkers(f.markers);
      }, 80);
    });
  }
  async function main() {
    initChart();
    const auth = await (await fetch("/console/auth", { headers: authHeaders() })).json();
    if (!auth.live) return recorded();
    $("mode").textContent = "live";
    $("controls").hidden = !auth.operator;
    $("readonly").hidden = auth.operator;
    connect();
  }
  main();
})();
