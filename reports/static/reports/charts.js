/* OpsDesk statistics charts: grouped bars or lines drawn as SVG from the page's own data.
   No library, no network: bank intranets have no internet. Data: the JSON in #report-chart-data,
   {type: "bar"|"line", x: key, series: [keys], rows: [...], labels: {key: label}, limit?: n}. */
(function () {
  "use strict";
  var COLOURS = ["#1f6feb", "#d29922", "#2da44e", "#cf222e", "#8250df", "#57606a"];
  var NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function niceMax(v) {
    if (v <= 0) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * p >= v) { return steps[i] * p; } }
    return 10 * p;
  }

  function draw(figure, spec) {
    var rows = (spec.rows || []).slice(0, spec.limit || 40);
    var series = spec.series || [];
    figure.textContent = "";
    if (!rows.length || !series.length) { return; }
    var W = 640, H = 300, L = 48, R = 8, T = 10, B = 70;
    var plotW = W - L - R, plotH = H - T - B;
    var max = 0;
    rows.forEach(function (r) { series.forEach(function (s) { max = Math.max(max, Number(r[s]) || 0); }); });
    max = niceMax(max);
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img"});
    for (var g = 0; g <= 4; g++) {
      var y = T + plotH - plotH * g / 4;
      svg.appendChild(el("line", {x1: L, x2: W - R, y1: y, y2: y, stroke: "#e1e4e8"}));
      svg.appendChild(el("text", {x: L - 4, y: y + 4, "text-anchor": "end", fill: "#57606a"},
        String(Math.round(max * g / 4 * 100) / 100)));
    }
    var band = plotW / rows.length;
    rows.forEach(function (r, i) {
      var label = String(r[spec.x] === undefined ? "" : r[spec.x]);
      var x = L + band * i + band / 2;
      var t = el("text", {x: x, y: T + plotH + 12, "text-anchor": "end", fill: "#24292f",
        transform: "rotate(-35 " + x + " " + (T + plotH + 12) + ")"}, label.length > 14 ? label.slice(0, 13) + "…" : label);
      svg.appendChild(t);
    });
    series.forEach(function (s, k) {
      var colour = COLOURS[k % COLOURS.length];
      if (spec.type === "line") {
        var points = rows.map(function (r, i) {
          return (L + band * i + band / 2) + "," + (T + plotH - plotH * (Number(r[s]) || 0) / max);
        });
        svg.appendChild(el("polyline", {points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 2}));
      } else {
        var w = Math.max(1, (band * 0.8) / series.length);
        rows.forEach(function (r, i) {
          var v = Number(r[s]) || 0, h = plotH * v / max;
          var rect = el("rect", {x: L + band * i + band * 0.1 + w * k, y: T + plotH - h, width: w, height: h,
            fill: colour});
          rect.appendChild(el("title", {}, (spec.labels[s] || s) + ": " + v));
          svg.appendChild(rect);
        });
      }
    });
    figure.appendChild(svg);
    var legend = document.createElement("div");
    legend.className = "legend";
    series.forEach(function (s, k) {
      var item = document.createElement("span");
      var swatch = document.createElement("i");
      swatch.style.background = COLOURS[k % COLOURS.length];
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(spec.labels[s] || s));
      legend.appendChild(item);
    });
    figure.appendChild(legend);
    figure.setAttribute("data-drawn", "1");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("report-chart-data");
    var figure = document.getElementById("report-chart");
    if (data && figure) { draw(figure, JSON.parse(data.textContent)); }
  });
})();
