/* cubeserver: shared map helpers (no network access beyond this server).
 * cubeserver.baseMap(el, basemapUrl) -> a Leaflet map with the bundled Natural Earth countries:
 * land filled under the data ("land" pane) and borders/coastlines drawn over it ("borders" pane). */
(function () {
  "use strict";
  const cs = (window.cubeserver = window.cubeserver || {});

  cs.readJSON = function (id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  };

  /* Rings that cross the antimeridian (Russia, Fiji) jump from +180 to -180; drawn on a flat map
   * that jump is a line across the world. Unwrap longitudes so each ring stays continuous (in place). */
  function unwrapRing(ring) {
    for (let i = 1; i < ring.length; i++) {
      const d = ring[i][0] - ring[i - 1][0];
      if (d > 180) ring[i] = [ring[i][0] - 360 * Math.round(d / 360), ring[i][1]];
      else if (d < -180) ring[i] = [ring[i][0] + 360 * Math.round(-d / 360), ring[i][1]];
    }
  }
  cs.unwrap = function (fc) {
    (fc.features || [fc]).forEach((f) => {
      const g = f.geometry || f;
      if (!g || !g.coordinates) return;
      if (g.type === "Polygon" || g.type === "MultiLineString") g.coordinates.forEach(unwrapRing);
      else if (g.type === "MultiPolygon") g.coordinates.forEach((p) => p.forEach(unwrapRing));
      else if (g.type === "LineString") unwrapRing(g.coordinates);
    });
    return fc;
  };

  cs.baseMap = function (el, basemapUrl, options) {
    const map = L.map(el, Object.assign({worldCopyJump: true, minZoom: 1, maxZoom: 12}, options || {}));
    map.createPane("land").style.zIndex = 150;      // under the tile pane (200)
    map.createPane("borders").style.zIndex = 350;   // over the data tiles, under vectors (400)
    map.getPane("borders").style.pointerEvents = "none";
    map.attributionControl.setPrefix("Leaflet");
    if (basemapUrl) {
      fetch(basemapUrl)
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error("base layer: HTTP " + r.status))))
        .then((fc) => {
          cs.unwrap(fc);
          L.geoJSON(fc, {pane: "land", interactive: false,
                         style: {stroke: false, fill: true, fillColor: "#efeadf", fillOpacity: 1}}).addTo(map);
          L.geoJSON(fc, {pane: "borders", interactive: false,
                         style: {color: "#4a5663", weight: 0.8, opacity: 0.9, fill: false}}).addTo(map);
          map.attributionControl.addAttribution("Made with Natural Earth");
        })
        .catch((e) => console.warn(String(e)));
    }
    return map;
  };

  cs.fitCrs84 = function (map, bbox, maxZoom) {
    if (!bbox) { map.setView([20, 0], 2); return; }
    const s = Math.max(bbox[1], -85), n = Math.min(bbox[3], 85);
    let w = bbox[0], e = bbox[2];
    if (e < w) e += 360;  // crosses the antimeridian
    map.fitBounds([[s, w], [n, e]], {maxZoom: maxZoom || 8});
  };
})();
