// TokenMetrics dashboard charts: small hand-written SVG charts (bars over time, a line over time, horizontal bars by
// category). Every label is set with textContent; each chart has an accessible title and description and a data table.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const W = 600, H = 240, LEFT = 64, RIGHT = 12, TOP = 12, BOTTOM = 34;

  function svgEl(name, attrs, text) {
    const el = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function el(name, attrs, text) {
    const e = document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // A round upper bound for the axis: 1, 2 or 5 times a power of ten.
  function niceMax(max) {
    if (!(max > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(max)));
    for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= max) return m * p;
    return 10 * p;
  }

  let counter = 0;

  // Clears the figure and gives it a caption, an svg with <title>/<desc>, and a <details> data table.
  function frame(figure, spec, height) {
    const id = "chart" + (++counter);
    figure.replaceChildren();
    figure.append(el("figcaption", { id: id + "-caption" }, spec.title));
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + height, role: "img", "aria-labelledby": id + "-title " + id + "-desc" });
    svg.append(svgEl("title", { id: id + "-title" }, spec.title), svgEl("desc", { id: id + "-desc" }, spec.desc));
    figure.append(svg);
    return svg;
  }

  function table(figure, spec, rows) {
    const details = el("details");
    details.append(el("summary", {}, "Data table: " + spec.title));
    const t = el("table");
    t.append(el("caption", { class: "visually-hidden" }, spec.title));
    const head = el("tr");
    head.append(el("th", { scope: "col" }, spec.columns[0]), el("th", { scope: "col", class: "num" }, spec.columns[1]));
    const thead = el("thead");
    thead.append(head);
    t.append(thead);
    const body = el("tbody");
    for (const r of rows) {
      const tr = el("tr");
      tr.append(el("th", { scope: "row" }, r.label), el("td", { class: "num" }, spec.format(r.value)));
      body.append(tr);
    }
    t.append(body);
    details.append(t);
    figure.append(details);
  }

  function empty(figure, spec) {
    figure.replaceChildren(el("figcaption", {}, spec.title), el("p", { class: "empty" }, "No calls in this time range."));
  }

  function yAxis(svg, max, format, height) {
    const plotH = height - TOP - BOTTOM;
    const axis = svgEl("g", { class: "axis", "aria-hidden": "true" });
    for (const f of [0, 0.5, 1]) {
      const y = TOP + plotH - f * plotH;
      axis.append(svgEl("line", { class: "grid", x1: LEFT, x2: W - RIGHT, y1: y, y2: y }));
      axis.append(svgEl("text", { x: LEFT - 6, y: y + 4, "text-anchor": "end" }, format(max * f)));
    }
    svg.append(axis);
  }

  // spec: { title, desc, kind: "bar" | "line", points: [{ label, short, value }], format, columns }
  function timeSeries(figure, spec) {
    const points = spec.points;
    if (!points.length) return empty(figure, spec);
    const svg = frame(figure, spec, H);
    const max = niceMax(Math.max(...points.map(p => p.value)));
    yAxis(svg, max, spec.format, H);
    const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
    const step = plotW / points.length;
    const x = i => LEFT + step * i + step / 2;
    const y = v => TOP + plotH - (v / max) * plotH;
    const marks = svgEl("g");
    if (spec.kind === "line") {
      const d = points.map((p, i) => (i ? "L" : "M") + x(i).toFixed(1) + " " + y(p.value).toFixed(1)).join(" ");
      marks.append(svgEl("path", { class: "line", d: d }));
    }
    points.forEach((p, i) => {
      const mark = spec.kind === "line"
        ? svgEl("circle", { class: "dot", cx: x(i), cy: y(p.value), r: 3 })
        : svgEl("rect", { class: "bar", x: x(i) - Math.max(1, step * 0.35), width: Math.max(2, step * 0.7), y: y(p.value), height: Math.max(0, TOP + plotH - y(p.value)) });
      mark.append(svgEl("title", {}, p.label + ": " + spec.format(p.value)));
      marks.append(mark);
    });
    svg.append(marks);
    // At most five time labels, evenly spread, so they never overlap.
    const labels = svgEl("g", { class: "axis", "aria-hidden": "true" });
    const every = Math.max(1, Math.ceil(points.length / 5));
    points.forEach((p, i) => {
      if (i % every === 0) labels.append(svgEl("text", { x: x(i), y: H - BOTTOM + 18, "text-anchor": "middle" }, p.short));
    });
    svg.append(labels);
    table(figure, spec, points);
  }

  // spec: { title, desc, items: [{ label, value }], format, columns }
  function categories(figure, spec) {
    const items = spec.items;
    if (!items.length) return empty(figure, spec);
    const row = 26, labelW = 170, height = TOP + items.length * row + 8;
    const svg = frame(figure, spec, height);
    const max = niceMax(Math.max(...items.map(i => i.value)));
    const plotW = W - labelW - RIGHT - 90;
    items.forEach((item, i) => {
      const y = TOP + i * row;
      const name = item.label.length > 26 ? item.label.slice(0, 25) + "…" : item.label;
      svg.append(svgEl("text", { x: labelW - 8, y: y + 15, "text-anchor": "end" }, name));
      const w = Math.max(1, (item.value / max) * plotW);
      const bar = svgEl("rect", { class: spec.alt ? "bar2" : "bar", x: labelW, y: y + 3, width: w, height: row - 8 });
      bar.append(svgEl("title", {}, item.label + ": " + spec.format(item.value)));
      svg.append(bar);
      svg.append(svgEl("text", { x: labelW + w + 6, y: y + 15 }, spec.format(item.value)));
    });
    table(figure, spec, items);
  }

  window.TokenMetricsCharts = { timeSeries, categories };
})();
