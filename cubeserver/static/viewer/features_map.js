/* The Features pages' map (items and one item): the page's GeoJSON over the bundled base layer. */
(function () {
  "use strict";
  const el = document.getElementById("map");
  const data = window.cubeserver.readJSON("features-data");
  if (!el || !data) return;
  const map = window.cubeserver.baseMap(el, el.dataset.basemap || null);
  const layer = L.geoJSON(window.cubeserver.unwrap(data), {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {radius: 5, color: "#17324d", weight: 1, fillColor: "#2f7fd0", fillOpacity: 0.8}),
    style: {color: "#2f7fd0", weight: 2, fillOpacity: 0.25},
    onEachFeature: (f, l) => { if (el.dataset.popups) l.bindPopup(String(f.id)); },
  }).addTo(map);
  if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), {maxZoom: 8}); else map.setView([20, 0], 2);
})();
