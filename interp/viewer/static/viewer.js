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
    if (manifest.probe_map) $("map-kind").append(el("option", { value: "probe" }, "probe score: " + manifest.probe_map.target));
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
    ({ x0: drawX0, maps: drawMaps, patch: COS_CHARTS.drawPatch, probes: COS_CHARTS.drawProbes, cos: COS_CHARTS.drawCos })[S.view]();
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
    const pm = S.manifest.probe_map;
    const what = { norm: "energy (token L2 norm)", pca: "PCA colours", probe: pm ? "linear probe score for " + pm.target : "" }[kind];
    body.append(el("h2", { class: "view-title" }, what + " of " + site + " at step " + s.steps[S.step] +
      (only !== undefined ? ", frame " + info.frames[only] : "") + " \u2014 " + sid()));
    if (kind === "norm") {
      body.append(el("p", { class: "units" }, "Each cell is one token (one patch of a frame); its colour is the L2 norm of the " +
        "activation vector at " + site + " (activation units), one colour scale for every step and frame of this site and sample, " +
        "so steps compare. Grey: no token stored."));
      body.append(keyBar(S.manifest.colormaps.magma, info.norm.range[0], info.norm.range[1], "token L2 norm"));
    } else if (kind === "probe") {
      const score = info.probe.score[S.step];
      body.append(el("p", { class: "units" }, "Each token coloured by a linear probe's " + pm.unit + " for the maze target " +
        pm.target + ". One probe per site, fitted on the tokens of every step of the other samples (" + pm.folds +
        " folds by sample), so this sample is held out; grey: tokens where the target is not defined. Held-out " + pm.score + " on this sample at this step: " + fmt(score, 2) + "."));
      body.append(keyBar(S.manifest.colormaps.viridis, info.probe.range[0], info.probe.range[1], pm.unit));
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
    const captions = kind === "probe" ? undefined : info.mean_norm[S.step].map((v) => "mean norm " + fmt(v, 2));
    body.append(strip(file, sprite, S.step, zoomFor(sprite, target), { only, captions }));
  }

  const util = { $, el, svg, fmt, colour, keyBar, swatches, load, S, sid };
  return { loaded, missing, state: S, util };
})();
