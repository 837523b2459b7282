// Draws the dashboard's charts with the locally served Apache ECharts. Each chart is a hidden
// <div data-chart="ID-data"> next to a <script type="application/json" id="ID-data"> spec; the
// tables beside the charts carry the same numbers, so without scripts nothing is lost.
(function () {
  "use strict";
  if (!window.echarts) { return; }
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
