/* CoverageJSON -> uPlot line charts (time series, vertical profile, values along a path).
 * cubeserver.drawCoverage(container, coverageJson, parameters[, options]) draws one chart per parameter
 * (one line per coverage of a CoverageCollection) and returns the number of charts drawn. */
(function () {
  "use strict";
  const cs = (window.cubeserver = window.cubeserver || {});
  const COLOURS = ["#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#475569"];
  const PREFER = ["t", "z", "composite"];

  function coverages(doc) {
    if (!doc) return [];
    if (doc.type === "CoverageCollection") {
      return (doc.coverages || []).map((c) => Object.assign({}, c, {
        domain: Object.assign({}, doc.domain || {}, c.domain),
        parameters: Object.assign({}, doc.parameters || {}, c.parameters || {}),
      }));
    }
    return [doc];
  }

  /* the 1-D slice of one range along its longest axis (t, then z, then the path), other axes at index 0 */
  function slice(cov, name) {
    const range = cov.ranges && cov.ranges[name];
    if (!range || !Array.isArray(range.values)) return null;
    const names = range.axisNames || [];
    const shape = range.shape || names.map(() => 1);
    let main = null;
    for (const a of PREFER) {
      const i = names.indexOf(a);
      if (i >= 0 && shape[i] > 1 && (main === null || shape[i] > shape[names.indexOf(main)])) main = a;
    }
    if (main === null) {  // a single value: plot it as one point along t or z when present
      main = names.find((a) => a === "t" || a === "z") || names[0] || null;
    }
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, n) => p * n, 1));
    const m = names.indexOf(main);
    const n = m >= 0 ? shape[m] : range.values.length;
    const ys = [];
    for (let k = 0; k < n; k++) {
      const v = range.values[m >= 0 ? k * strides[m] : k];
      ys.push(v === null || v === undefined || Number.isNaN(v) ? null : Number(v));
    }
    const axis = (cov.domain && cov.domain.axes && cov.domain.axes[main]) || {};
    let xs = axis.values ? axis.values.slice(0, n) : ys.map((_, k) => k);
    if (main === "composite") xs = ys.map((_, k) => k);
    return {axis: main, xs, ys};
  }

  function timeScale(xs) {
    const t = xs.map((v) => Date.parse(v) / 1000);
    const ok = t.every((v) => Number.isFinite(v)) && t.every((v, i) => i === 0 || v > t[i - 1]);
    return ok ? t : null;
  }

  function chart(el, title, axis, lines, unit, width) {
    const box = document.createElement("div");
    box.className = "chart";
    const h = document.createElement("div");
    h.className = "title";
    h.textContent = title;
    box.appendChild(h);
    el.appendChild(box);
    let xs = lines[0].xs;
    let time = false, labels = null;
    if (axis === "t") {
      const t = timeScale(xs);
      if (t) { xs = t; time = true; } else { labels = xs.map(String); xs = xs.map((_, i) => i); }
    } else {
      xs = xs.map(Number);
      if (!xs.every((v, i) => i === 0 || v > xs[i - 1])) {  // uPlot needs ascending x: sort the points
        const order = xs.map((v, i) => i).sort((a, b) => xs[a] - xs[b]);
        xs = order.map((i) => xs[i]);
        lines = lines.map((l) => Object.assign({}, l, {ys: order.map((i) => l.ys[i])}));
      }
    }
    const xLabel = axis === "t" ? "time" : axis === "z" ? "level" : axis === "composite" ? "position along the path" : axis;
    const opts = {
      width: width || Math.max(280, el.clientWidth - 8), height: 220,
      scales: {x: {time}},
      series: [{label: xLabel, value: labels ? (u, v) => (v == null ? "" : labels[Math.round(v)]) : undefined}]
        .concat(lines.map((l, i) => ({label: l.label, stroke: COLOURS[i % COLOURS.length], width: 1.5,
                                       points: {show: xs.length < 60}, spanGaps: false}))),
      axes: [
        labels ? {values: (u, splits) => splits.map((v) => (labels[Math.round(v)] || "").slice(0, 10))} : {},
        {label: unit || "", size: 60},
      ],
    };
    const data = [xs].concat(lines.map((l) => l.ys));
    box.plot = new uPlot(opts, data, box);
    return box;
  }

  cs.drawCoverage = function (el, doc, parameters, options) {
    options = options || {};
    const covs = coverages(doc);
    let drawn = 0;
    for (const p of parameters) {
      const lines = [];
      covs.forEach((cov, i) => {
        const s = slice(cov, p.id);
        if (s && s.ys.some((v) => v !== null)) lines.push(Object.assign(s, {label: covs.length > 1 ? `${p.id} #${i + 1}` : p.id}));
      });
      if (!lines.length) continue;
      const what = {t: "time series", z: "vertical profile", composite: "along the path"}[lines[0].axis] || "value";
      chart(el, `${p.label || p.id} (${what})`, lines[0].axis, lines.slice(0, 8), p.unit, options.width);
      drawn += 1;
    }
    return drawn;
  };
})();
