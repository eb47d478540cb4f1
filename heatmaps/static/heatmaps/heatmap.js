// Draws the heatmap charts whose ECharts options the server sent as JSON.
//
// The option is complete except for what JSON cannot carry: tooltip and label
// functions. They are added here and read the numbers in the payload's "meta"
// block (column times, price edges, candle prices). Charts are (re)drawn on
// page load and after every htmx swap, and disposed with the content they
// belong to so swaps do not leak chart instances.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function utc(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function price(p) {
    if (p === null || p === undefined || p === "-" || !isFinite(p)) return "—";
    if (Math.abs(p) >= 1000) return Math.round(p).toLocaleString("en-US");
    if (Math.abs(p) >= 1) return p.toFixed(Math.max(0, 4 - String(Math.floor(Math.abs(p))).length));
    return p.toPrecision(4);
  }

  function usd(v) {
    if (v === null || v === undefined || v === "-" || !isFinite(v)) return "—";
    var sign = v < 0 ? "−" : "", a = Math.abs(v);
    if (a >= 1e9) return sign + "$" + (a / 1e9).toPrecision(3) + "B";
    if (a >= 1e6) return sign + "$" + (a / 1e6).toPrecision(3) + "M";
    if (a >= 1e3) return sign + "$" + (a / 1e3).toPrecision(3) + "k";
    return sign + "$" + a.toFixed(0);
  }

  function compact(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toPrecision(3) + "B";
    if (a >= 1e6) return (v / 1e6).toPrecision(3) + "M";
    if (a >= 1e3) return (v / 1e3).toPrecision(3) + "k";
    return String(Math.round(v * 100) / 100);
  }

  // Formatters named in the server's JSON, by name.
  var FORMATTERS = { usd: usd, compact: compact };

  function attachFormatters(items) {
    (Array.isArray(items) ? items : items ? [items] : []).forEach(function (item) {
      var name = item.axisLabel && item.axisLabel.formatter;
      if (FORMATTERS[name]) item.axisLabel.formatter = FORMATTERS[name];
      if (FORMATTERS[item.formatter]) item.formatter = FORMATTERS[item.formatter];
    });
  }

  function tooltipFor(meta) {
    var times = meta.times, edges = meta.edges, prices = meta.prices;
    function span(i) { return utc(times[i]) + " – " + utc(times[i] + meta.columnMs).slice(11) + " UTC"; }
    return function (p) {
      var i = p.dataIndex;
      if (p.seriesType === "heatmap") {
        var c = p.value[0], r = p.value[1];
        return span(c) + "<br>" + price(edges[r]) + " – " + price(edges[r + 1]) + " " + meta.currency +
          "<br><b>≈" + usd(p.value[2]) + "</b> pending liquidations (estimate)";
      }
      if (p.seriesType === "candlestick" || p.seriesName === "Close") {
        return span(i) + "<br>O " + price(prices[0][i]) + " H " + price(prices[1][i]) +
          " L " + price(prices[2][i]) + " C " + price(prices[3][i]);
      }
      if (p.seriesName === "Open interest") {
        return span(i) + "<br>Open interest " + Number(p.value).toLocaleString("en-US");
      }
      if (p.componentSubType === "bar" && p.seriesName.indexOf("pending now") >= 0) {
        return price(edges[i]) + " – " + price(edges[i + 1]) + " " + meta.currency + "<br>" + p.seriesName + ": ≈" + usd(p.value);
      }
      return span(i) + "<br>" + p.seriesName + ": " + usd(Math.abs(p.value));
    };
  }

  // The heatmap's cells arrive as a dense column-major matrix of USD values;
  // ECharts wants [column, row, value] triples, and empty cells left out.
  function cellData(cells) {
    var data = [], rows = cells.rows, values = cells.values;
    for (var i = 0; i < values.length; i++) {
      if (values[i] > 0) data.push([Math.floor(i / rows), i % rows, values[i]]);
    }
    return data;
  }

  function draw(el) {
    var script = el.nextElementSibling;
    if (!script || !script.classList.contains("hm-data") || !window.echarts) return;
    var payload = JSON.parse(script.textContent);
    var option = payload.option;
    option.series[0].data = cellData(payload.meta.cells);
    option.tooltip.formatter = tooltipFor(payload.meta);
    attachFormatters(option.xAxis);
    attachFormatters(option.yAxis);
    attachFormatters(option.visualMap);
    var old = window.echarts.getInstanceByDom(el);
    if (old) old.dispose();
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.on("finished", function () { el.setAttribute("data-rendered", "1"); });
    chart.setOption(option);
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-heatmap]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    event.detail.target.querySelectorAll("[data-heatmap]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.detail.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-heatmap]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
