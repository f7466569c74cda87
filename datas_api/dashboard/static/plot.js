// Small SVG plots: axes with units, error bars, colours per series, marker shapes, shaded
// spans, reference lines. Elements are created with createElementNS; labels use textContent.
"use strict";
window.DATAS = window.DATAS || {};
(function () {
  var NS = "http://www.w3.org/2000/svg";
  var SHAPES = ["circle", "square", "triangle", "diamond", "down", "cross"];
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];
  var BANDS = { U: "#6a3d9a", B: "#1f5fd6", V: "#2ca02c", R: "#d62728", I: "#7f1d1d",
    g: "#2f9e44", r: "#e8590c", i: "#a61e4d", z: "#5c3c00", clear: "#555", none: "#555", CV: "#555" };

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs) {
    var t = el("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    t.textContent = content;
    return t;
  }

  function niceStep(span, count) {
    var raw = span / Math.max(1, count);
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  }

  function ticks(min, max, count) {
    if (!(max > min)) return [min];
    var step = niceStep(max - min, count);
    var out = [];
    for (var v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(+v.toFixed(10));
    return out;
  }

  function ticksEvery(min, max, step) {
    var out = [];
    for (var v = Math.ceil(min / step) * step; v <= max; v += step) out.push(v);
    return out;
  }

  // Tick spacing for a time axis in seconds: whole hours (or half hours) that fit the width.
  function hourStep(span, width) {
    var wanted = span / Math.max(2, Math.floor(width / 70));
    var steps = [1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400];
    for (var i = 0; i < steps.length; i++) if (steps[i] >= wanted) return steps[i];
    return steps[steps.length - 1];
  }

  function extent(values, pad) {
    var finite = values.filter(function (v) { return v !== null && isFinite(v); });
    if (!finite.length) return [0, 1];
    var lo = Math.min.apply(null, finite), hi = Math.max.apply(null, finite);
    if (hi === lo) { lo -= 0.5; hi += 0.5; }
    var p = (hi - lo) * (pad || 0.05);
    return [lo - p, hi + p];
  }

  function marker(parent, shape, x, y, size, attrs) {
    var s = size, node;
    switch (shape) {
      case "square": node = el("rect", { x: x - s, y: y - s, width: 2 * s, height: 2 * s }, parent); break;
      case "triangle": node = el("path", { d: "M" + x + " " + (y - s * 1.2) + "L" + (x + s * 1.1) + " " + (y + s * 0.8) + "L" + (x - s * 1.1) + " " + (y + s * 0.8) + "Z" }, parent); break;
      case "down": node = el("path", { d: "M" + x + " " + (y + s * 1.2) + "L" + (x + s * 1.1) + " " + (y - s * 0.8) + "L" + (x - s * 1.1) + " " + (y - s * 0.8) + "Z" }, parent); break;
      case "diamond": node = el("path", { d: "M" + x + " " + (y - s * 1.3) + "L" + (x + s * 1.3) + " " + y + "L" + x + " " + (y + s * 1.3) + "L" + (x - s * 1.3) + " " + y + "Z" }, parent); break;
      case "cross": node = el("path", { d: "M" + (x - s) + " " + (y - s) + "L" + (x + s) + " " + (y + s) + "M" + (x - s) + " " + (y + s) + "L" + (x + s) + " " + (y - s), "stroke-width": 2 }, parent); break;
      default: node = el("circle", { cx: x, cy: y, r: s }, parent);
    }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  // spec: {x: {label, min, max, format}, y: {label, min, max, invert}, spans: [{x0, x1, color,
  // title}], hlines: [{y, color, title}], vlines: [{x, title}], series: [{label, color, shape,
  // line, points: [{x, y, err, title, hollow}]}]}
  function draw(svg, spec) {
    // Draw at the element's own pixel width, so text stays 12 px from phone to desktop; the
    // height follows the aspect of the viewBox the template gave, within limits.
    if (!svg.dataset.aspect) {
      var box = svg.viewBox.baseVal;
      svg.dataset.aspect = String(box.height / box.width);
    }
    var W = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 800);
    var H = Math.round(Math.min(420, Math.max(220, W * Number(svg.dataset.aspect))));
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var m = { l: 56, r: 12, t: 10, b: 44 };
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var xs = [], ys = [];
    spec.series.forEach(function (s) {
      s.points.forEach(function (p) {
        xs.push(p.x); ys.push(p.y);
        if (p.err) { ys.push(p.y - p.err); ys.push(p.y + p.err); }
      });
    });
    var xr = spec.x.min !== undefined ? [spec.x.min, spec.x.max] : extent(xs, 0.03);
    var yr = spec.y.min !== undefined ? [spec.y.min, spec.y.max] : extent(ys, 0.08);
    var px = function (v) { return m.l + (v - xr[0]) / (xr[1] - xr[0]) * (W - m.l - m.r); };
    var py = function (v) {
      var f = (v - yr[0]) / (yr[1] - yr[0]);
      return spec.y.invert ? m.t + f * (H - m.t - m.b) : H - m.b - f * (H - m.t - m.b);
    };
    var clip = "clip" + Math.random().toString(36).slice(2);
    el("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b }, el("clipPath", { id: clip }, el("defs", {}, svg)));
    var axes = el("g", { class: "axis" }, svg);
    var fmtX = spec.x.format || function (v) { return String(+v.toFixed(6)); };
    var xTicks = spec.x.step ? ticksEvery(xr[0], xr[1], spec.x.step(xr[1] - xr[0], W)) : ticks(xr[0], xr[1], W > 500 ? 8 : 4);
    xTicks.forEach(function (v) {
      el("line", { class: "gridline", x1: px(v), x2: px(v), y1: m.t, y2: H - m.b }, axes);
      text(axes, px(v), H - m.b + 15, fmtX(v), { "text-anchor": "middle" });
    });
    ticks(Math.min(yr[0], yr[1]), Math.max(yr[0], yr[1]), 6).forEach(function (v) {
      el("line", { class: "gridline", x1: m.l, x2: W - m.r, y1: py(v), y2: py(v) }, axes);
      text(axes, m.l - 6, py(v) + 4, String(+v.toFixed(4)), { "text-anchor": "end" });
    });
    el("path", { d: "M" + m.l + " " + m.t + "V" + (H - m.b) + "H" + (W - m.r) }, axes);
    text(axes, (m.l + W - m.r) / 2, H - 6, spec.x.label, { "text-anchor": "middle", "font-weight": 600 });
    text(axes, 14, (m.t + H - m.b) / 2, spec.y.label,
      { "text-anchor": "middle", "font-weight": 600, transform: "rotate(-90 14 " + (m.t + H - m.b) / 2 + ")" });
    var area = el("g", { "clip-path": "url(#" + clip + ")" }, svg);
    (spec.spans || []).forEach(function (s) {
      var r = el("rect", { class: "dark", x: px(s.x0), y: m.t, width: Math.max(0, px(s.x1) - px(s.x0)), height: H - m.t - m.b, fill: s.color }, area);
      if (s.title) el("title", {}, r).textContent = s.title;
    });
    (spec.hlines || []).forEach(function (h) {
      var l = el("line", { class: "limit", x1: m.l, x2: W - m.r, y1: py(h.y), y2: py(h.y), stroke: h.color }, area);
      if (h.title) el("title", {}, l).textContent = h.title;
    });
    (spec.vlines || []).forEach(function (v) {
      var l = el("line", { class: "now", x1: px(v.x), x2: px(v.x), y1: m.t, y2: H - m.b }, area);
      if (v.title) el("title", {}, l).textContent = v.title;
    });
    spec.series.forEach(function (s) {
      var g = el("g", { class: "series", "data-label": s.label }, area);
      if (s.line) {
        var d = "";
        s.points.forEach(function (p, i) {
          if (p.y === null || !isFinite(p.y)) return;
          d += (d && s.points[i - 1] && isFinite(s.points[i - 1].y) ? "L" : "M") + px(p.x).toFixed(1) + " " + py(p.y).toFixed(1);
        });
        el("path", { class: "curve", d: d, stroke: s.color }, g);
        return;
      }
      s.points.forEach(function (p) {
        var x = px(p.x), y = py(p.y);
        var pt = el("g", { class: "pt" + (p.hollow ? " flagged" : "") }, g);
        if (p.err) {
          el("line", { class: "errbar", x1: x, x2: x, y1: py(p.y - p.err), y2: py(p.y + p.err), stroke: s.color }, pt);
        }
        marker(pt, s.shape, x, y, 3.5, p.hollow
          ? { fill: "#fff", stroke: s.color, "stroke-width": 1.5 }
          : { fill: s.color, stroke: s.shape === "cross" ? s.color : "none" });
        if (p.title) el("title", {}, pt).textContent = p.title;
      });
    });
  }

  DATAS.plot = { draw: draw, SHAPES: SHAPES, COLORS: COLORS, marker: marker, el: el, hourStep: hourStep,
    bandColor: function (band, i) { return BANDS[band] || COLORS[i % COLORS.length]; } };

  // Plots follow the window's width: redraw (the page's own draw functions) after a resize.
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { document.dispatchEvent(new CustomEvent("datas:resized")); }, 200);
  });

  // A legend entry (swatch or marker shape) made from nodes, for the controls above a plot.
  DATAS.plot.legendMarker = function (shape, color) {
    var svg = el("svg", { width: 14, height: 14, viewBox: "0 0 14 14", class: "swatch" });
    marker(svg, shape, 7, 7, 4.5, { fill: color, stroke: color });
    return svg;
  };
})();
