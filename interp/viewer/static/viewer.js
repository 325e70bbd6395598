/* cos-interp trace viewer. Plain JavaScript, no library, nothing fetched from the network.
 * Data arrive as script chunks (data/*.js call COS_VIEWER.loaded), because browsers refuse
 * fetch() of file:// URLs but run <script src>; a sample's chunk and pictures load only when
 * the sample is picked. */
"use strict";
const COS_VIEWER = (() => {
  const S = { manifest: null, sample: null, index: -1, step: 0, view: "x0", timer: null,
              patch: null, probes: null, cell: null, region: 0, metric: null, panel: null };
  const pending = {};
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "style") Object.assign(node.style, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  const fmt = (v, d = 3) => (v === null || v === undefined || Number.isNaN(v)) ? "n/a" : Number(v).toFixed(d);

  /* -- loading chunks -------------------------------------------------------------------- */
  function load(src, kind, key) {
    const id = kind + ":" + key;
    return new Promise((resolve, reject) => {
      pending[id] = resolve;
      const tag = el("script", { src });
      tag.onerror = () => { delete pending[id]; reject(new Error("cannot load " + src)); };
      document.body.append(tag);
    });
  }
  function loaded(kind, key, payload) {
    if (kind === "manifest") { init(payload); return; }
    const id = kind + ":" + key;
    if (pending[id]) { pending[id](payload); delete pending[id]; }
  }
  function missing(src) {
    $("status").textContent = "cannot load " + src + ": rebuild the viewer with cos view STORE --overwrite";
  }

  /* -- colour helpers -------------------------------------------------------------------- */
  function colour(stops, t) {
    if (t === null || t === undefined || Number.isNaN(t)) return "#cccccc";
    const i = Math.round(Math.min(1, Math.max(0, t)) * (stops.length - 1));
    return stops[i];
  }
  function keyBar(stops, low, high, label) {
    return el("div", { class: "key" }, el("span", {}, "colour key: " + label),
      el("span", {}, fmt(low)),
      el("span", { class: "bar", style: { background: "linear-gradient(to right," + stops.join(",") + ")" } }),
      el("span", {}, fmt(high)));
  }
  function swatches(title, items) {
    const key = el("div", { class: "key" }, el("span", {}, "colour key: " + title));
    for (const [name, hex] of items) key.append(el("span", {}, el("span", { class: "swatch", style: { background: hex } }), name));
    return key;
  }

  /* -- start ------------------------------------------------------------------------------ */
  function init(manifest) {
    S.manifest = manifest;
    $("status").hidden = true;
    $("store-info").textContent = manifest.store + " \u00b7 model " + (manifest.model || "unknown") + " \u00b7 " +
      manifest.samples.length + " samples \u00b7 " + manifest.steps.length + " captured steps";
    fillSamples("");
    $("sample-filter").addEventListener("input", (e) => fillSamples(e.target.value));
    $("sample").addEventListener("change", (e) => pickSample(Number(e.target.value)));
    $("step").addEventListener("input", (e) => setStep(Number(e.target.value)));
    $("play").addEventListener("click", togglePlay);
    document.addEventListener("keydown", (e) => {
      if (["INPUT", "SELECT", "BUTTON"].includes(e.target.tagName)) return;  // they handle their own keys
      if (e.key === "ArrowRight") setStep(S.step + 1);
      else if (e.key === "ArrowLeft") setStep(S.step - 1);
      else if (e.key === " ") { e.preventDefault(); togglePlay(); }
    });
    for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.view));
    const kinds = Object.keys(manifest.kinds);
    for (const k of kinds) $("site-kind").append(el("option", { value: k }, k));
    $("site-kind").addEventListener("change", () => { fillLayers(); drawMaps(); });
    $("layer").addEventListener("change", drawMaps);
    $("map-kind").addEventListener("change", drawMaps);
    $("frame").addEventListener("change", drawMaps);
    fillLayers();
    markEmptyTabs();
    show(manifest.x0_pixels ? "x0" : "maps");
    pickSample(0);
  }
  function markEmptyTabs() {
    const v = S.manifest.views;
    const has = { x0: S.manifest.x0_pixels, maps: S.manifest.sites.length > 0, patch: v.patch, probes: v.probes, cos: v.cos };
    for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("empty", !has[b.dataset.view]);
  }
  function fillSamples(filter) {
    const select = $("sample");
    select.textContent = "";
    S.manifest.samples.forEach((s, i) => {
      if (!filter || s.id.includes(filter)) select.append(el("option", { value: i }, s.id));
    });
    if (S.index >= 0) select.value = String(S.index);
  }
  function fillLayers() {
    const layers = S.manifest.kinds[$("site-kind").value] || [];
    const select = $("layer");
    select.textContent = "";
    for (const l of layers) select.append(el("option", { value: l }, l < 0 ? "(loop site)" : "layer " + l));
    select.disabled = layers.length < 2;
  }
  function siteName() {
    const kind = $("site-kind").value, layer = Number($("layer").value);
    return layer < 0 ? kind : "blocks." + layer + "." + kind;
  }

  async function pickSample(index) {
    S.index = index;
    $("sample").value = String(index);
    let chunk;
    try { chunk = await load("data/s" + index + "/sample.js", "sample", index); }
    catch (err) { $("status").hidden = false; $("status").textContent = err.message; return; }
    S.sample = chunk;
    const t = chunk.task || {};
    $("sample-info").textContent = [t.maze_size ? "maze " + t.maze_size + "x" + t.maze_size : null,
      t.maze_seed !== undefined ? "maze seed " + t.maze_seed : null, "noise seed " + chunk.seed].filter(Boolean).join(" \u00b7 ");
    $("step").max = String(chunk.steps.length - 1);
    const frames = firstSite() ? chunk.sites[firstSite()].frames : (chunk.x0 ? chunk.x0.frames : []);
    $("frame").textContent = "";
    $("frame").append(el("option", { value: "all" }, "all frames"));
    frames.forEach((f, j) => $("frame").append(el("option", { value: j }, "frame " + f)));
    setStep(Math.min(S.step, chunk.steps.length - 1));
  }
  function firstSite() { return S.manifest.sites.length ? S.manifest.sites[0] : null; }

  function setStep(i) {
    if (!S.sample) return;
    const n = S.sample.steps.length;
    S.step = ((i % n) + n) % n;
    $("step").value = String(S.step);
    const sigma = S.sample.sigmas ? S.sample.sigmas[S.step] : null;
    $("step-label").textContent = "step " + S.sample.steps[S.step] + " (" + (S.step + 1) + " of " + n + ")" +
      (sigma !== null ? " \u00b7 \u03c3 = " + fmt(sigma) : "");
    draw();
  }
  function togglePlay() {
    if (S.timer) { clearInterval(S.timer); S.timer = null; $("play").innerHTML = "&#9654; play"; return; }
    S.timer = setInterval(() => setStep(S.step + 1), 450);
    $("play").innerHTML = "&#10074;&#10074; pause";
  }
  function show(view) {
    S.view = view;
    for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.view === view);
    for (const s of document.querySelectorAll("section.view")) s.hidden = s.id !== "view-" + view;
    draw();
  }
  function draw() {
    if (!S.sample) return;
    ({ x0: drawX0, maps: drawMaps, patch: drawPatch, probes: drawProbes, cos: drawCos })[S.view]();
  }
  const sid = () => "sample " + S.sample.id;

  /* -- pictures from sprites (rows: steps, columns: frames) ------------------------------- */
  // whole-number zoom (no bleeding between sprite cells), rounded so that 22 px frames and 11-token maps match
  function zoomFor(sprite, target) { return Math.max(1, Math.round(target / Math.max(sprite.cell[0], sprite.cell[1]))); }
  const pictures = {};
  function fetchPicture(url) {
    /* one Image per sprite: the browser decodes it once, and its load is marked on the page's
       timeline ("picture <url>"), which the benchmark reads as the time to a picture */
    if (!pictures[url]) {
      const image = new Image();
      image.onload = () => performance.mark("picture " + url);
      image.src = url;
      pictures[url] = image;
    }
  }
  function frameDiv(url, sprite, row, col, zoom) {
    fetchPicture(url);
    const [h, w] = sprite.cell;
    return el("div", { class: "frame", "data-row": row, "data-col": col, style: {
      width: w * zoom + "px", height: h * zoom + "px", backgroundImage: "url(" + url + ")",
      backgroundSize: sprite.cols * w * zoom + "px " + sprite.rows * h * zoom + "px",
      backgroundPosition: -col * w * zoom + "px " + -row * h * zoom + "px" } });
  }
  function strip(url, sprite, row, zoom, opts = {}) {
    const out = el("div", { class: "strip" });
    sprite.frames.forEach((f, j) => {
      if (opts.only !== undefined && opts.only !== j) return;
      const caption = "frame " + f + (opts.captions ? " \u00b7 " + opts.captions[j] : "");
      out.append(el("div", { class: "cell" }, frameDiv(url, sprite, row, j, zoom), caption));
    });
    return out;
  }
  const path = (file) => "data/s" + S.index + "/" + file;

  function drawX0() {
    const root = $("view-x0"), s = S.sample;
    root.textContent = "";
    if (!s.x0) {
      root.append(el("p", { class: "note" }, "This store's x0 is not a pixel image (latent channels, pooled or not captured): " +
        "see its token maps instead."));
      return;
    }
    const sigma = s.sigmas ? " (\u03c3 = " + fmt(s.sigmas[S.step]) + ")" : "";
    root.append(el("h2", { class: "view-title" }, "x0_hat at denoising step " + s.steps[S.step] + sigma + " \u2014 " + sid()));
    root.append(el("p", { class: "units" }, "The model's estimate of the clean video at each step, x0_hat = x_t \u2212 \u03c3\u00b7v, shown " +
      "as RGB pixels (model space [\u22121, 1] mapped to 0..255); columns are frames, rows below are the denoising steps. " +
      "Move the step slider or press play; click a row to jump to its step."));
    root.append(s.key ? swatches("maze palette (" + ((s.task && s.task.palette) || "default") + ") that solved frames are drawn in", s.key)
                      : el("div", { class: "key" }, "colour key: RGB colours of the decoded estimate"));
    const big = zoomFor(s.x0, 150);
    root.append(el("div", { class: "row-caption" }, "x0_hat at step " + s.steps[S.step]));
    root.append(strip(path(s.x0.file), s.x0, S.step, big));
    const small = zoomFor(s.x0, 56);
    const grid = el("div", { class: "grid", style: { gridTemplateColumns: "auto repeat(" + s.x0.cols + ", max-content)" } });
    s.steps.forEach((step, i) => {
      const label = el("div", { class: "label", onclick: () => setStep(i) },
        "step " + step + (s.sigmas ? " \u00b7 \u03c3 " + fmt(s.sigmas[i], 2) : ""));
      grid.append(label);
      s.x0.frames.forEach((f, j) => {
        const d = frameDiv(path(s.x0.file), s.x0, i, j, small);
        if (i === S.step) d.classList.add("now");
        d.addEventListener("click", () => setStep(i));
        grid.append(d);
      });
    });
    root.append(el("div", { class: "row-caption" }, "step \u00d7 frame grid (rows: denoising steps, red: the step shown above; columns: frames " +
      s.x0.frames.join(", ") + ")"));
    root.append(grid);
    if (s.video) {
      root.append(el("div", { class: "row-caption" }, "the generated video (final decode)"));
      root.append(strip(path(s.video.file), s.video, 0, zoomFor(s.video, 80)));
    }
  }

  function drawMaps() {
    const body = $("maps-body"), s = S.sample;
    if (!s || S.view !== "maps") return;
    body.textContent = "";
    const site = siteName(), info = s.sites[site];
    if (!info) {
      const skipped = S.manifest.skipped_sites || {};
      body.append(el("p", { class: "note" }, Object.keys(skipped).length ? "No token map for this choice. Sites without maps: " +
        Object.entries(skipped).map(([k, v]) => k + " (" + v + ")").join(", ") : "This store has no site to map."));
      return;
    }
    const kind = $("map-kind").value, only = $("frame").value === "all" ? undefined : Number($("frame").value);
    const sprite = info[kind], file = path(sprite.file);
    const what = kind === "norm" ? "energy (token L2 norm)" : "PCA colours";
    body.append(el("h2", { class: "view-title" }, what + " of " + site + " at step " + s.steps[S.step] +
      (only !== undefined ? ", frame " + info.frames[only] : "") + " \u2014 " + sid()));
    if (kind === "norm") {
      body.append(el("p", { class: "units" }, "Each cell is one token (one patch of a frame); its colour is the L2 norm of the " +
        "activation vector at " + site + " (activation units), one colour scale for every step and frame of this site and sample, " +
        "so steps compare. Grey: no token stored."));
      body.append(keyBar(S.manifest.colormaps.magma, info.norm.range[0], info.norm.range[1], "token L2 norm"));
    } else {
      const e = info.pca.explained.map((v) => (100 * v).toFixed(0) + "%");
      body.append(el("p", { class: "units" }, "Each token coloured by its first three principal components (one PCA fitted over " +
        "every step and frame of this site and sample, so a colour means the same direction at every step); each " +
        "component spans its 1st..99th percentile."));
      body.append(swatches("red, green, blue = principal components 1, 2, 3 (" + e.join(", ") + " of the variance)",
        [["PC1", "#ff0000"], ["PC2", "#00ff00"], ["PC3", "#0000ff"]]));
    }
    const target = only !== undefined ? 300 : 130;
    if (s.x0) {
      body.append(el("div", { class: "row-caption" }, "the frames: x0_hat at step " + s.steps[S.step]));
      const x0only = only === undefined ? undefined : s.x0.frames.indexOf(info.frames[only]);
      body.append(strip(path(s.x0.file), s.x0, S.step, zoomFor(s.x0, target), { only: x0only < 0 ? undefined : x0only }));
    } else if (s.video) {
      body.append(el("div", { class: "row-caption" }, "the frames: the generated video"));
      body.append(strip(path(s.video.file), s.video, 0, zoomFor(s.video, target)));
    }
    body.append(el("div", { class: "row-caption" }, what + " of " + site));
    const captions = info.mean_norm[S.step].map((v) => "mean norm " + fmt(v, 2));
    body.append(strip(file, sprite, S.step, zoomFor(sprite, target), { only, captions }));
  }

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

  return { loaded, missing, state: S };
})();
