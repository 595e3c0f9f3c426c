/* The HTML view of an EDR query: fetch the same query as CoverageJSON, then draw it as charts
 * (point-like queries: time series, profile, values along the path, positions on the map) or as a
 * map (area, cube: the Maps endpoint's image of the query's box under its outline, and the values'
 * minimum, mean and maximum per parameter). */
(function () {
  "use strict";
  const cs = window.cubeserver;
  const cfg = cs.readJSON("edr-config");
  const $ = (id) => document.getElementById(id);
  const map = cs.baseMap($("edr-map"), cfg.urls.basemap);
  map.setView([20, 0], 2);
  const R = 6378137;
  const merc = (lon, lat) => [R * lon * Math.PI / 180, R * Math.log(Math.tan(Math.PI / 4 + Math.max(-85.05, Math.min(85.05, lat)) * Math.PI / 360))];
  const EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857";

  function positions(doc) {
    const out = [];
    const covs = doc.type === "CoverageCollection" ? doc.coverages || [] : [doc];
    covs.forEach((c) => {
      const ax = (c.domain && c.domain.axes) || {};
      if (ax.composite) {
        const names = ax.composite.coordinates || ["x", "y"];
        const ix = names.indexOf("x"), iy = names.indexOf("y");
        out.push(ax.composite.values.map((v) => [v[iy], v[ix]]));
      } else if (ax.x && ax.y && ax.x.values && ax.y.values && ax.x.values.length * ax.y.values.length <= 5000) {
        const pts = [];
        ax.x.values.forEach((x) => ax.y.values.forEach((y) => pts.push([y, x])));
        out.push(pts);
      }
    });
    return out;
  }

  function stats(doc) {
    const box = $("edr-charts");
    const covs = doc.type === "CoverageCollection" ? doc.coverages || [] : [doc];
    const table = document.createElement("table");
    table.innerHTML = "<tr><th>Parameter</th><th>Values</th><th>Minimum</th><th>Mean</th><th>Maximum</th><th>Unit</th></tr>";
    cfg.parameters.forEach((p) => {
      const vals = [];
      covs.forEach((c) => { const r = c.ranges && c.ranges[p.id]; if (r && r.values) r.values.forEach((v) => { if (v !== null) vals.push(v); }); });
      const tr = document.createElement("tr");
      const cells = vals.length
        ? [p.id, vals.length, Math.min(...vals), vals.reduce((a, b) => a + b, 0) / vals.length, Math.max(...vals), p.unit]
        : [p.id, 0, "", "", "", p.unit];
      cells.forEach((v) => { const td = document.createElement("td"); td.textContent = typeof v === "number" ? Number(v.toPrecision(6)) : v; tr.appendChild(td); });
      table.appendChild(tr);
    });
    box.appendChild(table);
  }

  function mapImage() {
    const b = cfg.bbox;
    if (!b) return;
    const bounds = L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
    map.fitBounds(bounds, {maxZoom: 8});
    L.rectangle(bounds, {color: "#17324d", weight: 2, fill: false}).addTo(map);
    const p = cfg.parameters[0];
    if (!p) return;
    const [x0, y0] = merc(b[0], b[1]), [x1, y1] = merc(b[2], b[3]);
    const width = 512, height = Math.max(16, Math.min(1024, Math.round(width * (y1 - y0) / (x1 - x0))));
    const q = [`properties=${encodeURIComponent(p.id)}`, `bbox=${[x0, y0, x1, y1].join(",")}`,
               `bbox-crs=${encodeURIComponent(EPSG3857)}`, `crs=${encodeURIComponent(EPSG3857)}`,
               `width=${width}`, `height=${height}`, "transparent=true", "f=png"];
    if (cfg.datetime && !/[/,]/.test(cfg.datetime)) q.push(`datetime=${encodeURIComponent(cfg.datetime)}`);
    if (cfg.vertical && cfg.z && !/[/,]/.test(cfg.z)) q.push(`subset=${encodeURIComponent(`${cfg.vertical.name}(${cfg.z})`)}`);
    L.imageOverlay(`${cfg.urls.map}?${q.join("&")}`, bounds, {opacity: 0.85, alt: `${p.id} map`}).addTo(map);
  }

  if (cfg.kind === "map") mapImage();
  fetch(cfg.data_url)
    .then((r) => {
      if (r.status === 204) return null;
      return r.json().then((doc) => (r.ok ? doc : Promise.reject(new Error(doc.detail || doc.title || "HTTP " + r.status))));
    })
    .then((doc) => {
      if (!doc) { $("edr-status").textContent = "no data for this query"; return; }
      const lines = positions(doc);
      const layers = [];
      lines.forEach((pts) => {
        if (cfg.query === "trajectory" || cfg.query === "corridor") layers.push(L.polyline(pts, {color: "#c2410c", weight: 3}));
        else if (cfg.kind !== "map") pts.slice(0, 2000).forEach((p) => layers.push(L.circleMarker(p, {radius: 5, color: "#111", weight: 1, fillColor: "#2f7fd0", fillOpacity: 0.8})));
      });
      if (layers.length) {
        const g = L.featureGroup(layers).addTo(map);
        if (cfg.kind !== "map" && g.getBounds().isValid()) map.fitBounds(g.getBounds().pad(0.5), {maxZoom: 6});
      }
      if (cfg.kind === "map") {
        stats(doc);
        $("edr-status").textContent = `${cfg.query} query: the map of ${cfg.parameters.length ? cfg.parameters[0].id : "the data"} and the values' summary`;
        return;
      }
      const n = cs.drawCoverage($("edr-charts"), doc, cfg.parameters);
      if (!n) stats(doc);
      $("edr-status").textContent = `${cfg.query} query: ${n} chart(s)`;
    })
    .catch((e) => { $("edr-status").textContent = "the query failed: " + e.message; $("edr-status").className = "error"; });
})();
