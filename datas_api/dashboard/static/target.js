// The target page: an interactive light curve (bands, flagged points, per-site markers) and
// tonight's altitude at the chosen sites. Redrawn after every refresh; choices are kept.
"use strict";
(function () {
  var state = { hiddenBands: {}, showFlagged: true };

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function checkbox(parent, label, checked, onChange, legend) {
    var wrap = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = checked;
    box.addEventListener("change", function () { onChange(box.checked); });
    wrap.appendChild(box);
    if (legend) wrap.appendChild(legend);
    wrap.appendChild(document.createTextNode(label));
    parent.appendChild(wrap);
    return box;
  }

  function bjdOffset(values) {
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    return hi - lo < 2 ? Math.floor(lo) : Math.floor(lo / 1000) * 1000;
  }

  function drawCurve() {
    var svg = document.getElementById("lightcurve");
    var c = data("curve-data");
    if (!svg || !c || !c.bjd.length) return;
    var P = DATAS.plot;
    var offset = bjdOffset(c.bjd);
    var series = [];
    c.bands.forEach(function (band, b) {
      if (state.hiddenBands[band]) return;
      c.sites.forEach(function (site, s) {
        var points = [];
        for (var i = 0; i < c.bjd.length; i++) {
          if (c.band[i] !== b || c.site[i] !== s) continue;
          var flagged = c.flags[i] && c.flags[i].length > 0;
          if (flagged && !state.showFlagged) continue;
          points.push({
            x: c.bjd[i] - offset, y: c.mag[i], err: c.err[i], hollow: flagged,
            title: "BJD_TDB " + c.bjd[i].toFixed(5) + "\n" + band + " " + c.mag[i].toFixed(3) +
              (c.err[i] !== null ? " ± " + c.err[i].toFixed(3) : "") + "\nsite " + site +
              (flagged ? "\nflags: " + c.flags[i].join(", ") : ""),
          });
        }
        if (points.length) {
          series.push({ label: band + "/" + site, color: P.bandColor(band, b), shape: P.SHAPES[s % P.SHAPES.length], points: points });
        }
      });
    });
    P.draw(svg, {
      x: { label: "BJD_TDB − " + offset + " (days)" },
      y: { label: "magnitude", invert: true },
      series: series,
    });
    var controls = document.getElementById("lc-controls");
    if (!controls || controls.childNodes.length) return;
    var nFlagged = c.flags.filter(function (f) { return f && f.length; }).length;
    checkbox(controls, "flagged points (" + nFlagged + ")", state.showFlagged, function (on) {
      state.showFlagged = on; drawCurve();
    }).id = "show-flagged";
    c.bands.forEach(function (band, b) {
      checkbox(controls, band, !state.hiddenBands[band], function (on) {
        state.hiddenBands[band] = !on; drawCurve();
      }, P.legendMarker("square", P.bandColor(band, b))).dataset.band = band;
    });
    c.sites.forEach(function (site, s) {
      var tag = document.createElement("span");
      tag.appendChild(P.legendMarker(P.SHAPES[s % P.SHAPES.length], "#444"));
      tag.appendChild(document.createTextNode(site));
      controls.appendChild(tag);
    });
  }

  function hhmm(unix) { return new Date(unix * 1000).toISOString().slice(11, 16); }

  function drawAltitude() {
    var svg = document.getElementById("altitude");
    var a = data("altitude-data");
    if (!svg || !a || !a.sites.length) return;
    var P = DATAS.plot;
    var series = [], spans = [], hlines = [];
    a.sites.forEach(function (site, i) {
      var color = P.COLORS[i % P.COLORS.length];
      series.push({ label: site.name, color: color, line: true,
        points: a.t.map(function (t, k) { return { x: t, y: site.alt[k] }; }) });
      if (site.dark) spans.push({ x0: site.dark[0], x1: site.dark[1], color: color, title: site.name + ": night" });
      hlines.push({ y: site.limit, color: color, title: site.name + ": altitude limit " + site.limit + "°" });
    });
    P.draw(svg, {
      x: { label: "time (UTC)", min: a.t[0], max: a.t[a.t.length - 1], format: hhmm, step: P.hourStep },
      y: { label: "altitude (°)", min: 0, max: 90 },
      series: series, spans: spans, hlines: hlines,
      vlines: [{ x: a.now, title: "now" }],
    });
    var legend = svg.previousElementSibling;
    if (!legend || !legend.classList.contains("plot-controls")) {
      legend = document.createElement("div");
      legend.className = "plot-controls";
      svg.parentNode.insertBefore(legend, svg);
      a.sites.forEach(function (site, i) {
        var tag = document.createElement("span");
        tag.appendChild(P.legendMarker("square", P.COLORS[i % P.COLORS.length]));
        tag.appendChild(document.createTextNode(site.name));
        legend.appendChild(tag);
      });
    }
  }

  function drawAll() { drawCurve(); drawAltitude(); }
  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("datas:refreshed", drawAll);
  document.addEventListener("datas:resized", drawAll);
})();
