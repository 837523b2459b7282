// Draws the dashboard's charts with the locally served Apache ECharts. Each chart is a hidden
// <div data-chart="ID-data"> next to a <script type="application/json" id="ID-data"> spec; the
// tables beside the charts carry the same numbers, so without scripts nothing is lost.
(function () {
  "use strict";
  if (!window.echarts) { return; }
  // Tooltips built by our own formatters are HTML: brand names are escaped first.
  function esc(text) { return window.echarts.format.encodeHTML(String(text)); }
  var builders = {
    funnel: function (spec) {
      return {
        tooltip: { trigger: "item", formatter: "{b}：{c} 个" },
        legend: { bottom: 0, data: spec.data.map(function (d) { return d.name; }) },
        color: ["#b71c1c", "#d84315", "#ef6c00", "#f9a825", "#9e9d24"],
        series: [{
          name: spec.title, type: "funnel", left: "10%", width: "80%", top: 10, bottom: 50,
          sort: "none", minSize: "8%", gap: 2,
          label: { show: true, position: "inside", formatter: "{b} {c}" },
          data: spec.data
        }]
      };
    },
    bar: function (spec) {
      return {
        tooltip: { trigger: "axis" },
        xAxis: { type: "category", data: spec.data.map(function (d) { return d.name; }) },
        yAxis: { type: "value" },
        series: [{ name: spec.title, type: "bar", data: spec.data.map(function (d) { return d.value; }), itemStyle: { color: "#b71c1c" } }]
      };
    },
    // Horizontal bars for counts with long labels (categories, keywords, survey options): every
    // label stays readable, largest first from the top, whole-number ticks.
    hbar: function (spec) {
      return {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 8, right: 40, top: 10, bottom: 10, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", inverse: true, axisLabel: { interval: 0 }, data: spec.data.map(function (d) { return d.name; }) },
        series: [{ name: spec.title, type: "bar", data: spec.data.map(function (d) { return d.value; }),
                   itemStyle: { color: "#b71c1c" }, label: { show: true, position: "right" } }]
      };
    }
    ,
    // RI with its 95% interval: a point per brand and whiskers drawn by a custom series.
    interval: function (spec) {
      var names = spec.data.map(function (d) { return d.name; });
      return {
        tooltip: { trigger: "item", formatter: function (p) { var d = spec.data[p.dataIndex]; return esc(d.name) + "：" + d.value.toFixed(1) + "（" + d.low.toFixed(1) + "–" + d.high.toFixed(1) + "）"; } },
        legend: { bottom: 0, data: ["社会认可度", "95%可信区间"] },
        grid: { left: 8, right: 30, top: 10, bottom: 40, containLabel: true },
        xAxis: { type: "value", min: 0, max: 100 },
        yAxis: { type: "category", inverse: true, data: names, axisLabel: { interval: 0 } },
        series: [
          { name: "95%可信区间", type: "custom", itemStyle: { color: "#555" },
            renderItem: function (params, api) {
              var y = api.value(0), lo = api.coord([api.value(1), y]), hi = api.coord([api.value(2), y]);
              var h = api.size([0, 1])[1] * 0.3, st = api.style({ stroke: "#555", fill: null, lineWidth: 1.5 });
              return { type: "group", children: [
                { type: "line", shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style: st },
                { type: "line", shape: { x1: lo[0], y1: lo[1] - h / 2, x2: lo[0], y2: lo[1] + h / 2 }, style: st },
                { type: "line", shape: { x1: hi[0], y1: hi[1] - h / 2, x2: hi[0], y2: hi[1] + h / 2 }, style: st }
              ] };
            },
            encode: { x: [1, 2], y: 0 },
            data: spec.data.map(function (d, i) { return [i, d.low, d.high]; }) },
          { name: "社会认可度", type: "scatter", symbolSize: 10, itemStyle: { color: "#b71c1c" },
            data: spec.data.map(function (d, i) { return [d.value, i]; }),
            markLine: spec.median == null ? undefined : { symbol: "none", lineStyle: { type: "dashed", color: "#999" },
              label: { formatter: "中位数 {c}" }, data: [{ xAxis: spec.median }] } }
        ]
      };
    },
    // 知名度 × 美誉度 with the cohort's median lines; quadrant names are descriptive only.
    quadrant: function (spec) {
      return {
        tooltip: { trigger: "item", formatter: function (p) { return esc(p.name) + "：知名度 " + p.value[0] + "，美誉度 " + p.value[1]; } },
        legend: { bottom: 0, data: ["品牌"] },
        grid: { left: 8, right: 30, top: 20, bottom: 40, containLabel: true },
        xAxis: { type: "value", name: "知名度", min: 0, max: 100 },
        yAxis: { type: "value", name: "美誉度", min: 0, max: 100 },
        series: [{ name: "品牌", type: "scatter", symbolSize: 12, itemStyle: { color: "#b71c1c" },
          label: { show: true, position: "right", formatter: "{b}" },
          data: spec.data,
          markLine: { symbol: "none", lineStyle: { type: "dashed", color: "#999" }, label: { formatter: "中位数 {c}" },
            data: [{ xAxis: spec.mx }, { yAxis: spec.my }] } }]
      };
    }
  };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var build = builders[spec.type];
    if (!build) { return; }
    el.hidden = false;
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(build(spec));
    window.addEventListener("resize", function () { chart.resize(); });
  });
}());
