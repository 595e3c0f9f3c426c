/* The map viewer of one gridded collection: Leaflet on the server's own map tiles
 * (/collections/{id}/map/tiles/WebMercatorQuad/{z}/{y}/{x}), the bundled Natural Earth base layer,
 * pickers for the variable, time step, level and extra dimensions, the legend (JSON, drawn here) and
 * a click that fetches the EDR position query (CoverageJSON) and plots its time series and profile. */
(function () {
  "use strict";
  const cs = window.cubeserver;
  const cfg = cs.readJSON("viewer-config");
  const $ = (id) => document.getElementById(id);
  const state = {param: cfg.parameters.length ? cfg.parameters[0].id : null, time: cfg.times.length - 1,
                 level: 0, custom: {}};
  cfg.custom.forEach((d) => { state.custom[d.id] = d.values[0]; });

  function option(select, value, text) {
    const o = document.createElement("option");
    o.value = String(value);
    o.textContent = text;
    select.appendChild(o);
  }

  // --- pickers
  const paramSel = $("param");
  cfg.parameters.forEach((p) => option(paramSel, p.id, p.unit ? `${p.label} (${p.unit})` : p.label));
  const timeBox = $("time-box"), timeIn = $("time"), timeOut = $("time-value");
  if (cfg.times.length) {
    timeIn.max = String(cfg.times.length - 1);
    timeIn.value = String(state.time);
    timeOut.textContent = cfg.times[state.time];
  } else {
    timeBox.hidden = true;
  }
  if (cfg.times.length <= 1) timeIn.disabled = true;
  const levelBox = $("level-box"), levelSel = $("level");
  if (cfg.vertical) {
    $("level-label").textContent = `Level: ${cfg.vertical.name}${cfg.vertical.units ? " (" + cfg.vertical.units + ")" : ""}`;
    // shown to 6 significant digits (ORCA depths are stored as 4.999938011169434); the index is what is sent
    cfg.vertical.values.forEach((v, i) => option(levelSel, i, typeof v === "number" ? String(Number(v.toPrecision(6))) : v));
  } else {
    levelBox.hidden = true;
  }
  const extraBox = $("extra");
  cfg.custom.forEach((d) => {
    const label = document.createElement("label");
    label.textContent = d.id;
    const sel = document.createElement("select");
    sel.id = "dim-" + d.id;
    sel.dataset.dim = d.id;
    d.values.forEach((v) => option(sel, v, String(v)));
    label.appendChild(sel);
    extraBox.appendChild(label);
    sel.addEventListener("change", () => { state.custom[d.id] = sel.value; refresh(); });
  });

  // --- URLs
  function subsets() {
    const out = [];
    if (cfg.vertical) out.push(`${cfg.vertical.name}(${cfg.vertical.values[state.level]})`);
    cfg.custom.forEach((d) => out.push(`${d.id}(${state.custom[d.id]})`));
    return out;
  }
  function tileUrl() {
    const q = [`properties=${encodeURIComponent(state.param)}`];
    if (cfg.times.length) q.push(`datetime=${encodeURIComponent(cfg.times[state.time])}`);
    const s = subsets();
    if (s.length) q.push(`subset=${encodeURIComponent(s.join(","))}`);
    return `${cfg.urls.tiles}?${q.join("&")}`;
  }

  // --- map
  const map = cs.baseMap($("map"), cfg.urls.basemap);
  cs.fitCrs84(map, cfg.bbox, 11);
  const b = cfg.bbox;
  const tileOpts = {opacity: 0.85, tileSize: 256, maxZoom: 12, attribution: cfg.attribution || ""};
  if (b && b[2] > b[0]) tileOpts.bounds = L.latLngBounds([[Math.max(b[1], -85.06), b[0]], [Math.min(b[3], 85.06), b[2]]]);
  const layer = L.tileLayer(tileUrl(), tileOpts).addTo(map);
  $("opacity").addEventListener("input", (e) => layer.setOpacity(Number(e.target.value)));

  // --- legend (GET .../styles/default/legend?properties=VAR&f=json: {units, kind, stops: [{value, color}]})
  function drawLegend(doc) {
    const box = $("legend");
    box.textContent = "";
    const stops = (doc.stops || []).filter((s) => s.value !== null && s.value !== undefined);
    if (!stops.length) { box.textContent = "no legend"; return; }
    const canvas = document.createElement("canvas");
    const W = 320, H = 58, r = window.devicePixelRatio || 1;
    canvas.width = W * r; canvas.height = H * r;
    canvas.setAttribute("aria-label", "legend");
    box.appendChild(canvas);
    const g = canvas.getContext("2d");
    g.scale(r, r);
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#1c2430";
    const x0 = 8, x1 = W - 8, y = 6, h = 18;
    if (doc.kind === "categorical") {
      const w = (x1 - x0) / stops.length;
      stops.forEach((s, i) => {
        g.fillStyle = s.color; g.fillRect(x0 + i * w, y, w - 2, h);
        g.fillStyle = "#1c2430"; g.textAlign = "center";
        g.fillText(s.label || String(s.value), x0 + (i + 0.5) * w, y + h + 13, w);
      });
    } else {
      const lo = stops[0].value, hi = stops[stops.length - 1].value, span = hi - lo || 1;
      const grad = g.createLinearGradient(x0, 0, x1, 0);
      stops.forEach((s) => grad.addColorStop(Math.min(1, Math.max(0, (s.value - lo) / span)), s.color));
      g.fillStyle = grad; g.fillRect(x0, y, x1 - x0, h);
      g.strokeStyle = "#5b6878"; g.strokeRect(x0, y, x1 - x0, h);
      g.fillStyle = "#1c2430";
      const fmt = (v) => (Math.abs(v) >= 1e6 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(4))));
      [[lo, "left", x0], [(lo + hi) / 2, "center", (x0 + x1) / 2], [hi, "right", x1]].forEach(([v, align, x]) => {
        g.textAlign = align; g.fillText(fmt(v), x, y + h + 13);
      });
    }
    g.textAlign = "center";
    g.fillText(doc.units ? `${doc.parameter || state.param} [${doc.units}]` : (doc.parameter || state.param), W / 2, y + h + 30);
  }
  function loadLegend() {
    $("legend").textContent = "loading legend…";
    fetch(`${cfg.urls.legend}?properties=${encodeURIComponent(state.param)}&f=json`)
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
      .then(drawLegend)
      .catch((e) => { $("legend").textContent = "legend unavailable (" + e.message + ")"; });
  }

  function refresh() {
    layer.setUrl(tileUrl());
    $("permalink").href = tileUrl().replace("{z}/{y}/{x}", "0/0/0");
  }

  paramSel.addEventListener("change", () => { state.param = paramSel.value; refresh(); loadLegend(); });
  timeIn.addEventListener("input", () => { timeOut.textContent = cfg.times[Number(timeIn.value)]; });
  timeIn.addEventListener("change", () => { state.time = Number(timeIn.value); timeOut.textContent = cfg.times[state.time]; refresh(); });
  levelSel.addEventListener("change", () => { state.level = Number(levelSel.value); refresh(); });

  // --- click: EDR position query -> time series (at the level shown) and profile (at the time shown)
  let marker = null;
  function position(lon, lat, extra) {
    const q = [`coords=${encodeURIComponent(`POINT(${lon.toFixed(5)} ${lat.toFixed(5)})`)}`,
               `parameter-name=${encodeURIComponent(state.param)}`, "f=covjson"];
    cfg.custom.forEach((d) => q.push(`${encodeURIComponent(d.id)}=${encodeURIComponent(state.custom[d.id])}`));
    Object.entries(extra).forEach(([k, v]) => q.push(`${k}=${encodeURIComponent(v)}`));
    return fetch(`${cfg.urls.position}?${q.join("&")}`).then((r) => {
      if (r.status === 204) return null;
      return r.json().then((doc) => (r.ok ? doc : Promise.reject(new Error(doc.detail || doc.title || "HTTP " + r.status))));
    });
  }
  map.on("click", (e) => {
    const lat = e.latlng.lat, lon = ((e.latlng.lng + 540) % 360) - 180;
    if (marker) marker.remove();
    marker = L.circleMarker(e.latlng, {radius: 6, color: "#111", weight: 2, fillColor: "#fff", fillOpacity: 0.9}).addTo(map);
    const charts = $("charts"), info = $("click-info");
    charts.textContent = "";
    info.textContent = `lon ${lon.toFixed(3)}, lat ${lat.toFixed(3)}: loading…`;
    const p = cfg.parameters.find((x) => x.id === state.param);
    const jobs = [];
    const series = {};
    if (cfg.vertical) series.z = cfg.vertical.values[state.level];
    const profile = cfg.vertical && cfg.vertical.values.length > 1;
    if (cfg.times.length > 1 || !profile) jobs.push(position(lon, lat, series));  // one time step: the profile says it all
    if (profile) jobs.push(position(lon, lat, cfg.times.length ? {datetime: cfg.times[state.time]} : {}));
    Promise.all(jobs).then((docs) => {
      let drawn = 0, value = null;
      docs.forEach((doc, i) => {
        if (!doc) return;
        if (i === 0 && cfg.times.length <= 1 && !(cfg.vertical && cfg.vertical.values.length > 1)) {
          const r = doc.ranges && doc.ranges[state.param];
          value = r && r.values ? r.values[0] : null;
        }
        drawn += cs.drawCoverage(charts, doc, [p]);
      });
      info.textContent = `lon ${lon.toFixed(3)}, lat ${lat.toFixed(3)}` +
        (value !== null ? `: ${state.param} = ${value} ${p.unit || ""}` : drawn ? "" : ": no data at this point");
    }).catch((err) => { info.textContent = `lon ${lon.toFixed(3)}, lat ${lat.toFixed(3)}: ${err.message}`; });
  });

  refresh();
  loadLegend();
  window.cubeserverViewer = {map, layer, tileUrl, state};
})();
