// Data quality: median zero point and seeing per night, one marker shape and colour per site.
"use strict";
(function () {
  function draw() {
    var node = document.getElementById("quality-data");
    if (!node) return;
    var rows = JSON.parse(node.textContent);
    var P = DATAS.plot;
    var sites = [], nights = [];
    rows.forEach(function (r) {
      if (sites.indexOf(r.site_id) < 0) sites.push(r.site_id);
      if (nights.indexOf(r.night) < 0) nights.push(r.night);
    });
    sites.sort(); nights.sort();
    var day = function (iso) { return Date.parse(iso + "T00:00:00Z") / 86400000; };
    var fmt = function (v) { return new Date(Math.round(v) * 86400000).toISOString().slice(5, 10); };
    [["zp-plot", "zero_point", "zero point (mag)"], ["seeing-plot", "seeing", "seeing (arcsec)"]].forEach(function (spec) {
      var svg = document.getElementById(spec[0]);
      if (!svg) return;
      var series = sites.map(function (site, i) {
        return {
          label: site, color: P.COLORS[i % P.COLORS.length], shape: P.SHAPES[i % P.SHAPES.length],
          points: rows.filter(function (r) { return r.site_id === site && r[spec[1]] !== null; }).map(function (r) {
            return { x: day(r.night), y: r[spec[1]], title: site + " " + r.night + " " + r.filter + ": " + r[spec[1]].toFixed(2) + " (" + r.n + " obs.)" };
          }),
        };
      });
      var lo = nights.length ? day(nights[0]) - 0.5 : 0, hi = nights.length ? day(nights[nights.length - 1]) + 0.5 : 1;
      var dayStep = function (span, width) { return Math.max(1, Math.ceil(span / Math.max(2, Math.floor(width / 60)))); };
      P.draw(svg, { x: { label: "night (evening date)", min: lo, max: hi, format: fmt, step: dayStep }, y: { label: spec[2] }, series: series });
    });
    var first = document.getElementById("zp-plot");
    if (first && sites.length && !first.parentNode.querySelector(".plot-controls")) {
      var legend = document.createElement("div");
      legend.className = "plot-controls";
      sites.forEach(function (site, i) {
        var tag = document.createElement("span");
        tag.appendChild(P.legendMarker(P.SHAPES[i % P.SHAPES.length], P.COLORS[i % P.COLORS.length]));
        tag.appendChild(document.createTextNode(site));
        legend.appendChild(tag);
      });
      first.parentNode.insertBefore(legend, first);
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("datas:refreshed", draw);
  document.addEventListener("datas:resized", draw);
})();
