// gradguard's live page: polls api/steps a few times a second and draws every trainer's recent steps
// with uPlot. Served from the agent jar under a strict Content-Security-Policy: no inline script, no
// request anywhere but to the agent's own endpoint, text always set through textContent.
(function () {
  "use strict";

  const POLL_MS = 250;
  const KEEP = 2048; // rows kept per trainer, as many as the agent keeps
  const COLUMNS = ["step", "time_ms", "loss", "global_norm", "global_norm_clipped", "clip_coefficient", "zscore", "agent_us"];
  const MAX_EVENTS = 200;
  const HEAT_LABELS = 14; // parameter names written on the heatmap's axis at most

  const tracks = new Map(); // id -> view
  let polls = 0;

  // ---- formatting -------------------------------------------------------------------------------
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
    return Number(v.toPrecision(4)).toString();
  }
  function positive(v) {
    return v !== null && v > 0 ? v : null; // a log scale cannot show 0, nor a missing value
  }
  function text(el, s) {
    el.textContent = s;
  }

  // ---- charts -----------------------------------------------------------------------------------
  function width(plotEl) {
    return Math.max(200, Math.floor(plotEl.getBoundingClientRect().width));
  }

  function logAxis() {
    // Powers of ten as 1e5, 1e-4 past four digits: a tick label fits the axis.
    const tick = (v) => (v >= 1e4 || v < 1e-3 ? v.toExponential(0).replace("+", "") : fmt(v));
    return { scale: "y", size: 60, values: (u, splits) => splits.map((v) => (v === null ? "" : tick(v))) };
  }

  /** Vertical marks at skipped steps (red) and detector explosions (orange) on a chart. */
  function eventMarks(view) {
    return (u) => {
      const ctx = u.ctx;
      const { top, height } = u.bbox;
      ctx.save();
      ctx.lineWidth = Math.max(1, devicePixelRatio);
      for (const e of view.events) {
        if (e.kind !== "skipped" && e.kind !== "explosion" && e.kind !== "failed") continue;
        const x = Math.round(u.valToPos(e.step, "x", true));
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
        ctx.strokeStyle = e.kind === "explosion" ? "rgba(240,140,0,0.55)" : "rgba(200,30,30,0.75)";
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
      }
      ctx.restore();
    };
  }

  function lineChart(view, el, series, log, sync) {
    const opts = {
      width: width(el),
      height: 200,
      cursor: { sync: { key: sync }, drag: { x: false, y: false } },
      scales: { x: { time: false }, y: log ? { distr: 3, log: 10 } : {} },
      axes: [{ label: "step", labelSize: 16, size: 36 }, log ? logAxis() : { scale: "y", size: 60, values: (u, s) => s.map(fmt) }],
      series: [{ label: "step", value: (u, v) => (v === null ? "–" : String(v)) }].concat(
        series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, points: { show: false }, value: (u, v) => fmt(v) }))),
      hooks: { draw: [eventMarks(view), () => { view.drawn[el.parentNode.dataset.chart] = view.rows.step.length; markDrawn(view); }] },
    };
    return new uPlot(opts, [[]].concat(series.map(() => [])), el);
  }

  // Viridis, 5 stops: colour of t in [0, 1].
  const RAMP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  function ramp(t) {
    const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(x));
    const f = x - i;
    return RAMP[i].map((c, k) => Math.round(c + f * (RAMP[i + 1][k] - c)));
  }

  /**
   * The heatmap: a uPlot plot (steps on x, shared cursor with the other charts, parameters on y)
   * whose cells are painted by its draw hook: one pixel per (step, parameter) in an offscreen canvas,
   * scaled onto the plot area.
   */
  function heatChart(view, el, sync) {
    const names = view.parameters;
    const n = Math.max(1, names.length);
    const cell = document.createElement("canvas");
    const scaleMin = view.section.querySelector(".heat-min");
    const scaleMax = view.section.querySelector(".heat-max");
    const cursorText = view.section.querySelector(".heat-cursor");
    const labelEvery = Math.max(1, Math.ceil(names.length / HEAT_LABELS));
    const longest = names.reduce((m, s) => Math.max(m, Math.min(s.length, 22)), 4);

    function paint(u) {
      const steps = view.rows.step;
      const cols = steps.length;
      if (cols === 0 || names.length === 0) return;
      let lo = Infinity;
      let hi = -Infinity;
      for (const column of view.rows.grad_norm) {
        for (const v of column) {
          if (v !== null && v > 0) {
            const l = Math.log10(v);
            if (l < lo) lo = l;
            if (l > hi) hi = l;
          }
        }
      }
      if (!Number.isFinite(lo)) return;
      if (hi - lo < 1e-9) hi = lo + 1;
      text(scaleMin, fmt(Math.pow(10, lo)));
      text(scaleMax, fmt(Math.pow(10, hi)));
      cell.width = cols;
      cell.height = n;
      const c = cell.getContext("2d");
      const img = c.createImageData(cols, n);
      for (let j = 0; j < names.length; j++) {
        const column = view.rows.grad_norm[j];
        const y = n - 1 - j; // the first parameter at the top
        for (let i = 0; i < cols; i++) {
          const v = column[i];
          const o = (y * cols + i) * 4;
          if (v === null || !(v > 0)) {
            img.data[o] = 200; img.data[o + 1] = 30; img.data[o + 2] = 30; // not finite (or zero): red
          } else {
            const rgb = ramp((Math.log10(v) - lo) / (hi - lo));
            img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2];
          }
          img.data[o + 3] = 255;
        }
      }
      c.putImageData(img, 0, 0);
      // Steps are consecutive (a missing report is rare): column i spans step[i] +- 0.5.
      const x0 = u.valToPos(steps[0] - 0.5, "x", true);
      const x1 = u.valToPos(steps[cols - 1] + 0.5, "x", true);
      const ctx = u.ctx;
      ctx.save();
      ctx.beginPath();
      ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
      ctx.clip();
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(cell, x0, u.bbox.top, x1 - x0, u.bbox.height);
      ctx.restore();
      view.drawn.heat = cols;
      markDrawn(view);
    }

    function showCursor(u) {
      const i = u.cursor.idx;
      if (i === null || i === undefined || u.cursor.top < 0) {
        text(cursorText, "");
        return;
      }
      const j = n - 1 - Math.floor(u.posToVal(u.cursor.top, "y"));
      if (j < 0 || j >= names.length) return;
      text(cursorText, "step " + view.rows.step[i] + " · " + names[j] + " · " + fmt(view.rows.grad_norm[j][i]));
    }

    const opts = {
      width: width(el),
      height: Math.max(140, Math.min(520, 16 * n + 50)),
      cursor: { sync: { key: sync }, drag: { x: false, y: false }, points: { show: false } },
      legend: { show: false },
      scales: { x: { time: false }, y: { range: [0, n] } },
      axes: [
        { label: "step", labelSize: 16, size: 36 },
        {
          scale: "y",
          size: Math.min(170, 12 + 7 * longest),
          grid: { show: false },
          splits: () => names.map((_, j) => n - 1 - j + 0.5).filter((_, j) => j % labelEvery === 0),
          values: (u, splits) => splits.map((v) => {
            const s = names[n - 1 - Math.floor(v)] || "";
            return s.length > 22 ? "…" + s.slice(-21) : s;
          }),
        },
      ],
      series: [{}, { label: "norm", stroke: "transparent", points: { show: false } }],
      hooks: { draw: [paint, eventMarks(view)], setCursor: [showCursor] },
    };
    return new uPlot(opts, [[], []], el);
  }

  function markDrawn(view) {
    // Read by the browser test: how many steps each chart last drew.
    view.section.dataset.drawn = JSON.stringify(view.drawn);
  }

  // ---- one trainer -----------------------------------------------------------------------------
  function newView(track) {
    const section = document.getElementById("track-template").content.firstElementChild.cloneNode(true);
    section.dataset.trackId = String(track.id);
    section.dataset.model = track.model;
    text(section.querySelector(".model"), track.model);
    text(section.querySelector(".trainer"), "trainer " + track.id);
    document.getElementById("tracks").appendChild(section);
    document.getElementById("empty").hidden = true;
    const rows = { grad_norm: [] };
    for (const c of COLUMNS) rows[c] = [];
    const view = { id: track.id, section, rows, parameters: [], events: [], totals: null, charts: null, drawn: {}, last: 0 };
    return view;
  }

  function makeCharts(view) {
    const q = (name) => view.section.querySelector('[data-chart="' + name + '"] .plot');
    const sync = "track-" + view.id;
    view.charts = {
      norm: lineChart(view, q("norm"), [{ label: "before policy", color: "#d1495b" }, { label: "after policy", color: "#1f77b4" }], true, sync),
      loss: lineChart(view, q("loss"), [{ label: "loss", color: "#2e7d32" }], false, sync),
      coef: lineChart(view, q("coef"), [{ label: "clip coefficient", color: "#6941c6" }], true, sync),
      agent: lineChart(view, q("agent"), [{ label: "agent µs", color: "#5d6b7a" }], true, sync),
      heat: heatChart(view, q("heat"), sync),
    };
    new ResizeObserver(() => {
      for (const [name, u] of Object.entries(view.charts)) {
        u.setSize({ width: width(q(name)), height: u.height });
      }
    }).observe(view.section.querySelector(".charts"));
  }

  function append(view, track) {
    const add = track.rows;
    const count = add.step.length;
    if (view.parameters.length === 0 && track.parameters.length > 0) {
      view.parameters = track.parameters;
      view.rows.grad_norm = track.parameters.map(() => []);
    }
    if (count > 0) {
      for (const c of COLUMNS) view.rows[c].push(...add[c]);
      view.rows.grad_norm.forEach((column, j) => column.push(...(add.grad_norm[j] || new Array(count).fill(null))));
      const drop = view.rows.step.length - KEEP;
      if (drop > 0) {
        for (const c of COLUMNS) view.rows[c].splice(0, drop);
        view.rows.grad_norm.forEach((column) => column.splice(0, drop));
      }
      view.last = add.step[count - 1];
    }
    view.events.push(...track.events);
    if (view.events.length > MAX_EVENTS) view.events.splice(0, view.events.length - MAX_EVENTS);
    if (track.totals) view.totals = track.totals;
    view.policy = track.policy || view.policy;
    view.recovery = track.recovery;
    view.incidents = track.incidents;
    return count;
  }

  function render(view) {
    const r = view.rows;
    const n = r.step.length;
    if (n === 0) return;
    if (!view.charts) makeCharts(view);
    const x = r.step;
    view.charts.norm.setData([x, r.global_norm.map(positive), r.global_norm_clipped.map(positive)]);
    view.charts.loss.setData([x, r.loss]);
    view.charts.coef.setData([x, r.clip_coefficient.map(positive)]);
    view.charts.agent.setData([x, r.agent_us.map(positive)]);
    view.charts.heat.setData([x, x.map(() => null)]);

    const last = n - 1;
    const t = view.totals || {};
    const sorted = r.agent_us.slice(-200).filter((v) => v !== null).sort((a, b) => a - b);
    const tiles = {
      step: r.step[last],
      loss: r.loss[last],
      global_norm: r.global_norm[last],
      global_norm_clipped: r.global_norm_clipped[last],
      clip_coefficient: r.clip_coefficient[last],
      clipped: t.clipped,
      skipped: t.skipped,
      explosions: t.explosions,
      agent_us: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
    };
    for (const [field, v] of Object.entries(tiles)) {
      const el = view.section.querySelector('[data-field="' + field + '"]');
      const counted = field === "step" || field === "clipped" || field === "skipped" || field === "explosions";
      text(el, counted ? (v === undefined ? "–" : String(v)) : fmt(v) + (field === "agent_us" && v !== null ? " µs" : ""));
      el.dataset.value = v === null || v === undefined ? "" : String(v);
      if (el.parentNode.classList.contains("warn")) el.parentNode.classList.toggle("hot", v > 0);
    }
    if (view.policy) {
      const p = view.policy;
      text(view.section.querySelector(".policy-type"), p.type + " · on_nonfinite=" + p.on_nonfinite);
      text(view.section.querySelector(".policy-settings"), p.settings || "(no settings)");
      text(view.section.querySelector(".policy-description"), p.description || "");
      view.section.querySelector(".policy").dataset.type = p.type;
    }
    renderEvents(view);
    renderRecovery(view);
    renderIncidents(view);
  }

  function renderEvents(view) {
    const list = view.section.querySelector(".event-list");
    const shown = view.events.slice(-50).reverse();
    list.replaceChildren(...shown.map((e) => {
      const li = document.createElement("li");
      li.className = e.kind;
      text(li, "step " + e.step + "  " + e.kind + (e.nonfinite ? " (gradients not finite)" : ""));
      return li;
    }));
    view.section.querySelector(".events .none").hidden = shown.length > 0;
  }

  function renderRecovery(view) {
    const box = view.section.querySelector(".recovery");
    box.hidden = !view.recovery;
    if (!view.recovery) return;
    for (const dd of box.querySelectorAll("[data-recovery]")) {
      const v = view.recovery[dd.dataset.recovery];
      text(dd, typeof v === "number" ? fmt(v) : String(v === null || v === undefined ? "–" : v));
    }
  }

  function renderIncidents(view) {
    const box = view.section.querySelector(".incidents");
    const list = view.incidents || [];
    box.hidden = list.length === 0;
    box.querySelector("tbody").replaceChildren(...list.slice().reverse().map((i) => {
      const tr = document.createElement("tr");
      for (const v of [i.step, i.trigger, i.first_offender, i.file]) {
        const td = document.createElement("td");
        text(td, v === null || v === undefined ? "–" : String(v));
        tr.appendChild(td);
      }
      return tr;
    }));
  }

  // ---- polling ---------------------------------------------------------------------------------
  function cursor() {
    const parts = [];
    for (const v of tracks.values()) {
      if (v.last > 0) parts.push(v.id + ":" + v.last);
    }
    return parts.length ? "?after=" + parts.join(",") : "";
  }

  async function poll() {
    const status = document.getElementById("status");
    try {
      // From the origin, not the page's URL: a URL with user:password@ in it cannot be fetched.
      const base = location.origin + location.pathname.replace(/[^/]*$/, "");
      const response = await fetch(base + "api/steps" + cursor(), { cache: "no-store", credentials: "same-origin" });
      if (!response.ok) throw new Error("api/steps answered " + response.status);
      const data = await response.json();
      text(document.getElementById("run"), "run " + data.run);
      for (const track of data.tracks) {
        let view = tracks.get(track.id);
        if (!view) {
          view = newView(track);
          tracks.set(track.id, view);
        }
        if (append(view, track) > 0 || !view.charts) {
          render(view);
        } else {
          renderRecovery(view);
          renderIncidents(view);
        }
      }
      polls++;
      document.body.dataset.polls = String(polls);
      status.className = "status live";
      text(status, "live · " + new Date().toLocaleTimeString());
    } catch (e) {
      status.className = "status down";
      text(status, "agent not reachable (" + e.message + "); retrying");
    }
    setTimeout(poll, POLL_MS);
  }

  poll();
})();
