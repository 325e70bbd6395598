/* cos-interp trace viewer: the charts drawn as SVG (patching and probe heatmaps, Chain-of-Steps
 * curves), from the helpers and state of viewer.js. */
"use strict";
const COS_CHARTS = (() => {
  const { $, el, svg, fmt, colour, keyBar, swatches, load, S, sid } = COS_VIEWER.util;

  /* -- heatmaps --------------------------------------------------------------------------- */
  function heatmap(values, rows, cols, opts) {
    const [wide, tall] = opts.size || [520, 360];
    const cw = Math.max(6, Math.min(30, Math.floor(wide / cols.length))), ch = Math.max(6, Math.min(26, Math.floor(tall / rows.length)));
    const left = 64, top = 8, bottom = 40, width = left + cols.length * cw + 10, height = top + rows.length * ch + bottom;
    const out = svg("svg", { width, height, role: "img", "aria-label": opts.label });
    const [low, high] = opts.range;
    rows.forEach((r, i) => {
      const y = top + (rows.length - 1 - i) * ch;  // first row at the bottom, like the matplotlib figures
      if (i % Math.ceil(11 / ch) === 0)
        out.append(svg("text", { x: left - 4, y: y + ch * 0.7, "text-anchor": "end", "font-size": 10 }, String(r)));
      cols.forEach((c, j) => {
        const v = values[i][j];
        const rect = svg("rect", { x: left + j * cw, y, width: cw - 1, height: ch - 1, class: "cell-rect",
          fill: colour(opts.stops, v === null ? null : (v - low) / (high - low)), "data-row": i, "data-col": j,
          onclick: () => opts.onCell && opts.onCell(i, j) },
          svg("title", {}, opts.rowName + " " + r + ", " + opts.colName + " " + c + ": " + fmt(v)));
        if (opts.selected && opts.selected[0] === i && opts.selected[1] === j) { rect.setAttribute("stroke", "#000"); rect.setAttribute("stroke-width", 2); }
        out.append(rect);
      });
    });
    const every = Math.ceil(16 / cw);  // tick labels at least 16 px apart
    cols.forEach((c, j) => {
      if (j % every === 0) out.append(svg("text", { x: left + j * cw + cw / 2, y: top + rows.length * ch + 12, "text-anchor": "middle", "font-size": 10 }, String(c)));
    });
    out.append(svg("text", { x: left + cols.length * cw / 2, y: height - 6, "text-anchor": "middle", "font-size": 11 }, opts.xlabel));
    out.append(svg("text", { x: 12, y: top + rows.length * ch / 2, "font-size": 11, "text-anchor": "middle",
      transform: "rotate(-90 12 " + (top + rows.length * ch / 2) + ")" }, opts.ylabel));
    return out;
  }
  async function lazy(name) {
    if (!S[name]) S[name] = await load("data/" + name + ".js", name, 0);
    return S[name];
  }
  function absent(root, what, option) {
    root.textContent = "";
    root.append(el("h2", { class: "view-title" }, what + " \u2014 " + sid()));
    root.append(el("p", { class: "note" }, "Not in this viewer: build it with cos view STORE " + option + "."));
  }

  async function drawPatch() {
    const root = $("view-patch");
    if (!S.manifest.views.patch) return absent(root, "Activation patching", "--patch DIR (a cos patch output folder)");
    const g = await lazy("patch");
    if (S.view !== "patch") return;
    root.textContent = "";
    const names = Object.keys(g.metrics);
    if (!S.metric) S.metric = names[0];
    const pickers = el("div", { class: "pickers" });
    const region = el("select", { id: "patch-region", onchange: (e) => { S.region = Number(e.target.value); S.cell = null; drawPatch(); } });
    g.regions.forEach((r, i) => region.append(el("option", { value: i }, r)));
    region.value = String(S.region);
    const metric = el("select", { id: "patch-metric", onchange: (e) => { S.metric = e.target.value; drawPatch(); } });
    names.forEach((m) => metric.append(el("option", { value: m }, m)));
    metric.value = S.metric;
    pickers.append(el("label", {}, "region ", region), el("label", {}, "metric ", metric));
    const m = g.metrics[S.metric], regionName = g.regions[S.region];
    root.append(el("h2", { class: "view-title" }, "Activation patching, clean into corrupted: " + S.metric + ", region " + regionName +
      " \u2014 samples: " + g.n_pairs + " maze pairs of " + g.source));
    root.append(el("p", { class: "units" }, "Each cell patches " + g.site + " of one layer at one denoising step (tokens of region " +
      regionName + ") from the clean run into the corrupted one; colour: " + m.label + " (" + m.unit + "), the mean over " +
      g.n_pairs + " pairs, read from the " + (g.read_at === "final" ? "final video" : "x0_hat of the patched step") +
      ". Click a cell for its effect on each pair."));
    root.append(pickers);
    root.append(keyBar(S.manifest.colormaps.RdBu_r, m.range[0], m.range[1], m.label));
    root.append(heatmap(m.matrix[S.region], g.layers, g.steps, { range: m.range, stops: S.manifest.colormaps.RdBu_r,
      xlabel: "denoising step patched", ylabel: "layer patched", rowName: "layer", colName: "step", label: "patching heatmap",
      selected: S.cell, onCell: (i, j) => { S.cell = [i, j]; drawPatch(); } }));
    if (S.cell) root.append(patchCell(g, m));
  }
  function patchCell(g, m) {
    const [i, j] = S.cell, values = m.pairs[S.region][i][j];
    const box = el("div", { class: "detail", id: "patch-cell" });
    box.append(el("h3", {}, "Effect on each maze pair of the cell layer " + g.layers[i] + ", step " + g.steps[j] + ", region " + g.regions[S.region] +
      ": mean " + fmt(m.matrix[S.region][i][j]) + " (" + m.unit + ")"));
    box.append(el("p", { class: "note" }, "One bar per maze pair (pairs 0.." + (values.length - 1) + " of " + g.n_pairs +
      "): the pair's " + S.metric + " on the same scale as the heatmap."));
    const w = Math.max(3, Math.min(14, Math.floor(560 / values.length))), H = 120, pad = 30;
    const chart = svg("svg", { width: pad + values.length * w + 10, height: H + 30, role: "img", "aria-label": "per-pair effects" });
    const [low, high] = m.range, y = (v) => 8 + (H - 8) * (high - Math.max(low, Math.min(high, v))) / (high - low);
    chart.append(svg("line", { x1: pad, x2: pad + values.length * w, y1: y(0), y2: y(0), stroke: "#888" }));
    values.forEach((v, k) => {
      if (v === null) return;
      chart.append(svg("rect", { x: pad + k * w, y: Math.min(y(v), y(0)), width: w - 1, height: Math.max(1, Math.abs(y(v) - y(0))),
        fill: colour(S.manifest.colormaps.RdBu_r, (v - low) / (high - low)) }, svg("title", {}, "pair " + k + ": " + fmt(v))));
    });
    chart.append(svg("text", { x: 2, y: y(high) + 4, "font-size": 10 }, String(high)));
    chart.append(svg("text", { x: 2, y: y(low), "font-size": 10 }, String(low)));
    if (low < 0) chart.append(svg("text", { x: 2, y: y(0) + 4, "font-size": 10 }, "0"));
    chart.append(svg("text", { x: pad, y: H + 24, "font-size": 11 }, "maze pair"));
    box.append(chart);
    if (g.effects_png) box.append(el("p", { class: "note" }, "Per-unit effect maps of the strongest cells (written by cos patch): ",
      el("a", { href: "data/" + g.effects_png, target: "_blank" }, "patch_effects.png")));
    return box;
  }

  async function drawProbes() {
    const root = $("view-probes");
    if (!S.manifest.views.probes) return absent(root, "Linear probes", "--probes DIR (a cos probe output folder)");
    const p = await lazy("probes");
    if (S.view !== "probes") return;
    root.textContent = "";
    const names = Object.keys(p.panels);
    if (!S.panel) S.panel = names[0];
    const pick = el("select", { id: "probe-target", onchange: (e) => { S.panel = e.target.value; drawProbes(); } });
    names.forEach((n) => pick.append(el("option", { value: n }, n)));
    pick.value = S.panel;
    const panel = p.panels[S.panel];
    root.append(el("h2", { class: "view-title" }, "Linear probe of " + panel.target + " (" + panel.branch + " branch), per layer and step \u2014 samples: " + p.n));
    root.append(el("p", { class: "units" }, "Held-out " + panel.metric + " of a linear probe trained on one layer at one denoising step, " +
      "beside its controls (shuffled labels; a randomly initialised model when the sweep had one) and the selectivity, the score " +
      "minus the control's. Source: " + p.source + "."));
    root.append(el("div", { class: "pickers" }, el("label", {}, "target ", pick)));
    const panels = el("div", { class: "panels" });
    const titles = { score: "score (" + panel.metric + ")", control_shuffle: "control: shuffled labels", control_random: "control: random model",
      selectivity_shuffle: "selectivity vs shuffled labels", selectivity: "selectivity vs random model" };
    const scores = ["score", "control_shuffle", "control_random"].filter((k) => panel.values[k]);
    const flat = (k) => panel.values[k].flat().filter((v) => v !== null);
    const all = scores.flatMap(flat);
    const srange = [Math.min(0, ...all), Math.max(1, ...all)];
    for (const key of Object.keys(titles)) {
      if (!panel.values[key]) continue;
      const sel = key.startsWith("selectivity");
      const lim = sel ? Math.max(0.05, ...flat(key).map(Math.abs)) : null;
      const range = sel ? [-lim, lim] : srange, stops = S.manifest.colormaps[sel ? "RdBu_r" : "viridis"];
      panels.append(el("div", { class: "panel" }, el("h3", {}, titles[key]),
        heatmap(panel.values[key], panel.layers, panel.steps, { range, stops, xlabel: "denoising step", ylabel: "layer", size: [260, 200],
          rowName: "layer", colName: "step", label: titles[key] }),
        keyBar(stops, range[0], range[1], sel ? "selectivity" : panel.metric)));
    }
    root.append(panels);
  }

  function drawCos() {
    const root = $("view-cos"), s = S.sample;
    root.textContent = "";
    root.append(el("h2", { class: "view-title" }, "Chain-of-Steps metrics per denoising step \u2014 " + sid()));
    const c = s.cos;
    if (!c) {
      root.append(el("p", { class: "note" }, "No Chain-of-Steps metrics for this sample: they need pixel x0_hat of a maze task, or " +
        "cos view STORE --cos metrics.json (from cos cos-metrics)."));
      return;
    }
    root.append(el("p", { class: "units" }, "Read from x0_hat's final frame at each step: a grid unit counts as painted when its route " +
      "colour amount is at least " + c.threshold + ". Counts: candidate start-to-goal routes through painted units, shortest routes " +
      "fully shown, side branches; red dots: something painted is wrong. Dashed lines: commitment, perception and action steps; grey band: the step shown."));
    const series = [["candidates", "#0072b2"], ["shortest_shown", "#009e73"], ["side_branches", "#e69f00"]];
    root.append(swatches("curves", series.map(([n, hex]) => [n.replace("_", " "), hex]).concat([["wrong at this step", "#d1242f"]])));
    const n = c.steps.length, W = 560, H = 220, L = 44, B = 34, T = 10;
    const top = Math.max(1, ...series.flatMap(([k]) => c[k] || []));
    const x = (i) => L + (n === 1 ? 0 : i * (W - L - 10) / (n - 1)), y = (v) => T + (H - T - B) * (1 - v / top);
    const chart = svg("svg", { width: W, height: H, role: "img", "aria-label": "Chain-of-Steps metrics", id: "cos-chart" });
    chart.append(svg("line", { x1: L, x2: W - 10, y1: y(0), y2: y(0), stroke: "#888" }));
    chart.append(svg("line", { x1: L, x2: L, y1: T, y2: y(0), stroke: "#888" }));
    for (let v = 0; v <= top; v += Math.max(1, Math.ceil(top / 5)))
      chart.append(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 10 }, String(v)));
    const every = Math.ceil(n / 20);
    c.steps.forEach((st, i) => { if (i % every === 0) chart.append(svg("text", { x: x(i), y: H - B + 14, "text-anchor": "middle", "font-size": 10 }, String(st))); });
    chart.append(svg("text", { x: (L + W) / 2, y: H - 4, "text-anchor": "middle", "font-size": 11 }, "denoising step"));
    chart.append(svg("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 11, transform: "rotate(-90 12 " + (T + H - B) / 2 + ")" }, "count"));
    chart.append(svg("line", { x1: x(S.step), x2: x(S.step), y1: T, y2: y(0), stroke: "#d0d7de", "stroke-width": 6 }));
    for (const [name, step, hex] of [["commitment", c.commitment_step, "#000"], ["perception", c.perception_step, "#6e7781"], ["action", c.action_step, "#8250df"]]) {
      const i = c.steps.indexOf(step);
      if (i < 0) continue;
      chart.append(svg("line", { x1: x(i), x2: x(i), y1: T, y2: y(0), stroke: hex, "stroke-dasharray": "4 3" }));
      chart.append(svg("text", { x: x(i) + 3, y: T + 10 + 11 * ["commitment", "perception", "action"].indexOf(name), "font-size": 10, fill: hex }, name));
    }
    for (const [key, hex] of series) {
      if (!c[key]) continue;
      const wide = key === "candidates";  // drawn first and wide, so equal curves on top leave it visible
      chart.append(svg("polyline", { fill: "none", stroke: hex, "stroke-width": wide ? 6 : 2, "stroke-opacity": wide ? 0.45 : 1, points: c[key].map((v, i) => x(i) + "," + y(v)).join(" ") }));
    }
    (c.wrong || []).forEach((w, i) => { if (w) chart.append(svg("circle", { cx: x(i), cy: y(0) - 4, r: 3, fill: "#d1242f" })); });
    root.append(chart);
    const table = el("table", { class: "summary" });
    const rows = [["step shown", s.steps[S.step]], ["candidates at this step", c.candidates[S.step]],
      ["commitment step", c.commitment_step], ["perception step", c.perception_step], ["action step", c.action_step],
      ["final answer correct", c.final_correct], ["self-corrected", c.self_corrected]];
    for (const [k, v] of rows) table.append(el("tr", {}, el("th", {}, k), el("td", {}, v === null || v === undefined ? "never" : String(v))));
    root.append(table);
  }

  return { drawPatch, drawProbes, drawCos };
})();
