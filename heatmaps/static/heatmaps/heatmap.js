// Draws the heatmap charts whose ECharts options the server sent as JSON.
//
// The option is complete except for what JSON cannot carry: functions. Any
// "formatter" naming one of FORMATTERS and any "renderItem" naming one of the
// custom-series painters below is replaced by that function; the tooltips
// read the numbers in the payload's "meta" block.
//
// The map itself is one bitmap painted here, pixel by pixel, from the decoded
// cells (see heatmaps/charts.py for the encoding), so it appears in one frame
// whatever the number of cells; it is repainted only when the grid's size, the
// zoom or the colour range changes. When a chart has been drawn completely its
// element gets data-painted (and window.__liqsitePaintMs the time since
// navigation), which the browser tests and bench/paint_bench.py wait for.
//
// Also here: keyboard focus kept on the control that was used after an htmx
// swap; the "reset zoom" and "download PNG" buttons; and live updates of an
// open page (a conditional request every data-live seconds; new data is merged
// into the chart in place, keeping the zoom).
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  function utc(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) +
      " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function clock(date) {
    return pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + ":" + pad(date.getUTCSeconds()) + " UTC";
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

  // Formatters named in the server's JSON, by name. Axis labels get a value,
  // axis-pointer labels an object holding it.
  var FORMATTERS = {
    usd: usd,
    compact: compact,
    price: price,
    pointerPrice: function (p) { return price(p.value); },
  };

  // Price-axis labels, all with the decimals their tick spacing needs: 105, 100, 95 rather than
  // 105.0, 100.0, 95.00 (each rounded on its own). The spacing changes with the price zoom, so it
  // is read from the axis each time.
  function axisPriceFormatter(chart) {
    return function (value) {
      var step = 0;
      try {
        var scale = chart.getModel().getComponent("yAxis", 0).axis.scale;  // ECharts 6: getConfig(); 5: getInterval()
        step = scale.getConfig ? scale.getConfig().interval : scale.getInterval();
      } catch (e) { step = 0; }
      if (!(step > 0)) return price(value);
      var decimals = (String(Number(step.toPrecision(6))).split(".")[1] || "").length;
      return Number(value).toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    };
  }

  // Index of the row [edges[i], edges[i+1]) holding p, or -1 outside the edges.
  function rowOf(edges, p) {
    if (!(p >= edges[0]) || !(p < edges[edges.length - 1])) return -1;
    var lo = 0, hi = edges.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (edges[mid] <= p) lo = mid; else hi = mid;
    }
    return lo;
  }

  // -- cells ----------------------------------------------------------------
  var POWERS = [];
  for (var e = 0; e < 80; e++) POWERS.push(Math.pow(10, e - 2));

  // The USD matrix (column-major, columns × rows) of a "sig3-u16-delta-deflate" block.
  function decodeCells(cells) {
    var binary = atob(cells.data), bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      var deltas = new Uint16Array(buffer), rows = cells.rows, columns = cells.columns;
      var values = new Float64Array(columns * rows), code = new Uint16Array(rows);
      for (var c = 0, k = 0; c < columns; c++) {
        for (var r = 0; r < rows; r++, k++) {
          code[r] = code[r] + deltas[k];  // wraps modulo 2^16, as the server's differences do
          var index = code[r] - 1;
          values[k] = index < 0 ? 0 : (index % 900 + 100) * POWERS[(index / 900) | 0];
        }
      }
      return values;
    });
  }

  // Each exchange's pending USD in price row r at the latest step (coin pages; meta.byExchange).
  function exchangeRows(split, r) {
    if (!split) return "";
    var text = "<br><b>By exchange</b>, latest step:";
    split.labels.forEach(function (label, e) {
      text += "<br>" + label + ": longs ≈" + usd(split.long[e][r]) + ", shorts ≈" + usd(split.short[e][r]);
    });
    return text;
  }

  // 256 colours along the scale, packed for a Uint32Array view of ImageData (RGBA bytes, little-endian).
  function colourTable(colours) {
    var stops = colours.map(function (hex) {
      return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
    });
    var table = new Uint32Array(256);
    for (var i = 0; i < 256; i++) {
      var t = i / 255 * (stops.length - 1), j = Math.min(stops.length - 2, Math.floor(t)), f = t - j;
      var rgb = [0, 1, 2].map(function (n) { return Math.round(stops[j][n] + (stops[j + 1][n] - stops[j][n]) * f); });
      table[i] = (255 << 24 | rgb[2] << 16 | rgb[1] << 8 | rgb[0]) >>> 0;
    }
    return table;
  }

  // -- painters of the custom series -------------------------------------------

  // The whole visible map as one bitmap in device pixels: each pixel's time
  // column and price row are looked up, so rows of any spacing stay exact.
  function paintMap(state, api, params) {
    var box = params.coordSys, dpr = window.devicePixelRatio || 1;
    var width = Math.max(1, Math.round(box.width * dpr)), height = Math.max(1, Math.round(box.height * dpr));
    var edges = state.meta.edges, rows = edges.length - 1;
    var first = api.value(0), count = params.dataInsideLength, band = api.size([1, 0])[0];
    var left = api.coord([first, edges[0]])[0] - band / 2;
    var yLow = api.coord([first, edges[0]])[1], yHigh = api.coord([first, edges[rows]])[1];
    var key = [width, height, box.x, box.y, first, count, band, yLow, yHigh, state.range[0], state.range[1], state.version].join();
    if (state.bitmap && state.bitmapKey === key) return state.bitmap;

    var columnAt = new Int32Array(width), rowAt = new Int32Array(height);
    for (var px = 0; px < width; px++) {
      var x = box.x + (px + 0.5) / dpr;
      columnAt[px] = Math.min(first + count - 1, Math.max(first, first + Math.floor((x - left) / band)));
    }
    var perPixel = (edges[rows] - edges[0]) / (yHigh - yLow);
    for (var py = 0; py < height; py++) {
      rowAt[py] = rowOf(edges, edges[0] + (box.y + (py + 0.5) / dpr - yLow) * perPixel);
    }
    var canvas = state.bitmap || document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    var context = canvas.getContext("2d"), image = context.createImageData(width, height);
    var pixels = new Uint32Array(image.data.buffer), values = state.values, table = state.colours;
    var top = state.meta.scaleTop, low = state.range[0], high = state.range[1] >= top ? Infinity : state.range[1];
    for (py = 0; py < height; py++) {
      var r = rowAt[py];
      if (r < 0) continue;
      for (px = 0; px < width; px++) {
        var v = values[columnAt[px] * rows + r];
        if (v > 0 && v >= low && v <= high) pixels[py * width + px] = table[v >= top ? 255 : (v / top * 255) | 0];
      }
    }
    context.putImageData(image, 0, 0);
    state.bitmap = canvas;
    state.bitmapKey = key;
    return canvas;
  }

  function painters(state) {
    return {
      // One item per time column; the first visible one draws the whole visible map.
      heatmapColumn: function (params, api) {
        if (params.dataIndexInside !== 0) return null;
        var box = params.coordSys;
        return {
          type: "image",
          style: { image: paintMap(state, api, params), x: box.x, y: box.y, width: box.width, height: box.height },
        };
      },
      // [row, from USD, to USD, low price, high price]: one bar between the row's price edges.
      profileBar: function (params, api) {
        var a = api.coord([api.value(1), api.value(4)]), b = api.coord([api.value(2), api.value(3)]);
        var height = b[1] - a[1], gap = height > 3 ? height * 0.1 : 0;
        return {
          type: "rect",
          shape: { x: a[0], y: a[1] + gap / 2, width: Math.max(0, b[0] - a[0]), height: Math.max(0.5, height - gap) },
          style: { fill: api.visual("color") },
        };
      },
    };
  }

  // -- tooltips -----------------------------------------------------------------
  function tooltipFor(state, chart) {
    function span(i) {
      var times = state.meta.times;
      return utc(times[i]) + " – " + utc(times[i] + state.meta.columnMs).slice(11) + " UTC";
    }
    return function (p) {
      var meta = state.meta, edges = meta.edges, prices = meta.prices, i = p.dataIndex;
      if (p.seriesIndex === 0) {
        var at = chart.convertFromPixel({ gridIndex: 0 }, [state.pointer.x, state.pointer.y]);
        var c = Math.round(at[0]), r = rowOf(edges, at[1]);
        if (!(c >= 0 && c < meta.times.length) || r < 0) return "";
        var v = state.values[c * (edges.length - 1) + r];
        return span(c) + "<br>" + price(edges[r]) + " – " + price(edges[r + 1]) + " " + meta.currency +
          "<br>" + (v > 0 ? "<b>≈" + usd(v) + "</b> pending liquidations (estimate)" : "no pending liquidations estimated") +
          (c === meta.times.length - 1 ? exchangeRows(meta.byExchange, r) : "");
      }
      if (p.seriesType === "candlestick" || p.seriesName === "Close") {
        return span(i) + "<br>O " + price(prices[0][i]) + " H " + price(prices[1][i]) +
          " L " + price(prices[2][i]) + " C " + price(prices[3][i]);
      }
      if (p.seriesName.indexOf("Open interest") === 0) {
        return span(i) + "<br>" + p.seriesName + " " + Number(p.value).toLocaleString("en-US");
      }
      if (p.seriesName.indexOf("pending now") >= 0) {
        var row = p.value[0];
        return price(edges[row]) + " – " + price(edges[row + 1]) + " " + meta.currency + "<br>" + p.seriesName +
          ": ≈" + usd(p.value[2] - p.value[1]) + exchangeRows(meta.byExchange, row);
      }
      return span(i) + "<br>" + p.seriesName + ": " + usd(Math.abs(p.value));
    };
  }

  // -- drawing ------------------------------------------------------------------

  // Functions in place of the names the server wrote (walks the whole option).
  function attachFunctions(node, named) {
    if (Array.isArray(node)) { node.forEach(function (item) { attachFunctions(item, named); }); return; }
    if (!node || typeof node !== "object") return;
    Object.keys(node).forEach(function (key) {
      var value = node[key];
      if ((key === "formatter" || key === "renderItem") && typeof value === "string" && named[value]) node[key] = named[value];
      else if (value && typeof value === "object") attachFunctions(value, named);
    });
  }

  function prepare(state, chart, payload) {
    var option = payload.option;
    option.series[0].data = payload.meta.times.map(function (_, i) { return [i]; });
    option.tooltip.formatter = tooltipFor(state, chart);
    var named = Object.assign({ axisPrice: axisPriceFormatter(chart) }, FORMATTERS, painters(state));
    attachFunctions(option, named);
    return option;
  }

  function markPainted(el) {
    var ms = Math.round(performance.now());
    window.__liqsitePaintMs = ms;
    el.setAttribute("data-paint-ms", String(ms));
    el.setAttribute("data-rendered", "1");
    el.setAttribute("data-painted", "1");
  }

  function payloadOf(el) {
    var script = el.nextElementSibling;
    if (!script || !script.classList.contains("hm-data")) return null;
    return JSON.parse(script.textContent);
  }

  function draw(el) {
    var payload = payloadOf(el);
    if (!payload || !window.echarts) return;
    el.removeAttribute("data-painted");
    return decodeCells(payload.meta.cells).then(function (values) {
      if (!el.isConnected) return;  // swapped away while decoding
      var old = window.echarts.getInstanceByDom(el);
      if (old) old.dispose();
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var state = {
        meta: payload.meta, values: values, colours: colourTable(payload.meta.colours),
        range: [0, payload.meta.scaleTop], pointer: { x: 0, y: 0 }, version: 0,
      };
      el.__liqsite = state;
      chart.getZr().on("mousemove", function (event) { state.pointer = { x: event.offsetX, y: event.offsetY }; });
      chart.on("datarangeselected", function (event) {
        state.range = event.selected;
        chart.setOption({ series: [{ id: "map" }] });  // repaint with the new range
      });
      chart.on("finished", function () { if (!el.hasAttribute("data-painted")) markPainted(el); });
      var option = prepare(state, chart, payload);
      option.series[0].id = "map";
      chart.setOption(option);
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-heatmap]").forEach(draw);
  }

  // -- live updates -------------------------------------------------------------

  // Merge a newer payload into the chart: same view, later data. The time zoom
  // keeps its columns (or keeps following the newest column when it showed it).
  function update(el, payload) {
    var chart = window.echarts && window.echarts.getInstanceByDom(el), state = el.__liqsite;
    if (!chart || !state) return draw(el);
    return decodeCells(payload.meta.cells).then(function (values) {
      var oldTimes = state.meta.times, newTimes = payload.meta.times;
      var zoom = chart.getOption().dataZoom[0];
      var start = zoom.startValue, end = zoom.endValue, following = end >= oldTimes.length - 1;
      state.meta = payload.meta;
      state.values = values;
      state.version += 1;
      var option = prepare(state, chart, payload);
      option.series[0].id = "map";
      delete option.dataZoom;
      delete option.media;
      delete option.visualMap;  // keeps the range the reader dragged
      chart.setOption(option, { replaceMerge: ["series"] });
      var shift = newTimes.indexOf(oldTimes[start]);
      var span = end - start;
      var newEnd = following ? newTimes.length - 1 : Math.max(0, newTimes.indexOf(oldTimes[end]));
      var newStart = following ? Math.max(0, newEnd - span) : Math.max(0, shift);
      chart.dispatchAction({ type: "dataZoom", dataZoomIndex: 0, startValue: newStart, endValue: newEnd });
      markPainted(el);
    });
  }

  function liveStatus(root, text) {
    var status = root.querySelector("[data-live-status]");
    if (status) status.textContent = text;
  }

  function startLive(root) {
    var seconds = Number(root.getAttribute("data-live"));
    if (!seconds || root.__liqsiteLive) return;
    var live = { etag: null, loaded: new Date(), busy: false };
    root.__liqsiteLive = live;
    function check() {
      if (live.busy) return Promise.resolve();
      live.busy = true;
      var headers = { "HX-Request": "true", "X-Liqsite-Live": "1" };
      if (live.etag) headers["If-None-Match"] = live.etag;
      return fetch(window.location.href, { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          var checked = new Date();
          if (response.headers.get("ETag")) live.etag = response.headers.get("ETag");
          if (response.status === 304) {
            liveStatus(root, "updated " + clock(live.loaded) + " · checked " + clock(checked));
            return;
          }
          if (!response.ok) {
            liveStatus(root, "updated " + clock(live.loaded) + " · check failed at " + clock(checked) + " (HTTP " + response.status + ")");
            return;
          }
          return response.text().then(function (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html");
            var el = root.querySelector("[data-heatmap]"), newEl = fresh.querySelector("[data-heatmap]");
            // The parts around the chart (header, caption, tables) are replaced; the chart is updated in place.
            root.querySelectorAll("[data-live-part]").forEach(function (part) {
              var replacement = fresh.querySelector('[data-live-part="' + part.getAttribute("data-live-part") + '"]');
              if (replacement) part.replaceWith(document.importNode(replacement, true));
            });
            live.loaded = checked;
            liveStatus(root, "updated " + clock(live.loaded) + " · checked " + clock(checked));
            if (!el || !newEl) return;
            var script = newEl.nextElementSibling;
            el.nextElementSibling.textContent = script.textContent;
            ["data-columns", "data-rows"].forEach(function (name) { el.setAttribute(name, newEl.getAttribute(name)); });
            return update(el, JSON.parse(script.textContent));
          });
        })
        .catch(function () { liveStatus(root, "updated " + clock(live.loaded) + " · offline, retrying"); })
        .finally(function () { live.busy = false; });
    }
    live.check = check;
    live.timer = window.setInterval(check, seconds * 1000);
    liveStatus(root, "updated " + clock(live.loaded));
    window.liqsiteLive = live;
  }

  // -- buttons ------------------------------------------------------------------
  function chartOf(button) {
    var scope = button.closest(".hm") || document;
    var el = scope.querySelector("[data-heatmap]");
    return el && window.echarts && window.echarts.getInstanceByDom(el);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-chart-action]");
    if (!button) return;
    var chart = chartOf(button);
    if (!chart) return;
    if (button.getAttribute("data-chart-action") === "reset") {
      chart.getOption().dataZoom.forEach(function (_, index) {
        chart.dispatchAction({ type: "dataZoom", dataZoomIndex: index, start: 0, end: 100 });
      });
    } else if (button.getAttribute("data-chart-action") === "png") {
      var link = document.createElement("a");
      link.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#161a22", excludeComponents: ["dataZoom"] });
      link.download = (button.getAttribute("data-filename") || "liqsite-heatmap") + ".png";
      document.body.appendChild(link);
      link.click();
      link.remove();
    }
  });

  // -- htmx ---------------------------------------------------------------------

  // A control swap replaces the controls too: put the focus back on the
  // control of the same group and label, or keyboard users start over at <body>.
  var focusAfterSwap = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt, group = elt && elt.closest && elt.closest("[data-control]");
    focusAfterSwap = group ? { group: group.getAttribute("data-control"), label: elt.textContent.trim() } : null;
  });

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    document.querySelectorAll("[data-live]").forEach(startLive);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    event.detail.target.querySelectorAll("[data-heatmap]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.dispose();
    });
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    drawAll(event.detail.target);
    var live = event.detail.target.__liqsiteLive;
    if (live) {  // another view now: its own version, loaded just now
      live.etag = null;
      live.loaded = new Date();
      liveStatus(event.detail.target, "updated " + clock(live.loaded));
    }
    if (focusAfterSwap) {
      var wanted = focusAfterSwap, group = document.querySelector('[data-control="' + wanted.group + '"]');
      focusAfterSwap = null;
      if (group) {
        var links = Array.prototype.slice.call(group.querySelectorAll("a, [tabindex]"));
        var same = links.filter(function (a) { return a.textContent.trim() === wanted.label; })[0];
        var target = same || group.querySelector("a.active") || links[0];
        if (target) target.focus({ preventScroll: true });
      }
    }
  });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-heatmap]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
