// Page behaviour without inline scripts (CSP script-src 'self'): charts read their data from
// json_script blocks; HTMX swaps re-run the same initialisation.
(function () {
  "use strict";

  var charts = {
    "stage-bar": function (data) {
      return {
        tooltip: { trigger: "axis" },
        legend: { data: ["项目数", "总投资（亿元）"] },
        grid: { left: 50, right: 60, bottom: 30, top: 40 },
        xAxis: { type: "category", data: data.labels },
        yAxis: [{ type: "value", name: "个" }, { type: "value", name: "亿元" }],
        series: [
          { name: "项目数", type: "bar", data: data.counts, itemStyle: { color: "#1f5fa8" } },
          { name: "总投资（亿元）", type: "line", yAxisIndex: 1,
            data: data.amounts.map(function (v) { return (Number(v) / 10000).toFixed(2); }),
            itemStyle: { color: "#d9822b" } }
        ]
      };
    }
  };

  function initCharts(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var build = charts[el.dataset.chart];
      var source = document.getElementById(el.dataset.source);
      if (!build || !source || el.dataset.ready) { return; }
      el.dataset.ready = "1";
      var chart = window.echarts.init(el);
      chart.setOption(build(JSON.parse(source.textContent)));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  function initConfirm(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.confirmReady) { return; }
      form.dataset.confirmReady = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }

  // "Export what I see": after the list is filtered in place, point the export link at the same query.
  function syncExport() {
    var source = document.getElementById("export-href");
    var link = document.getElementById("export-link");
    if (source && link) { link.setAttribute("href", source.dataset.href); }
    var saved = document.getElementById("save-filter-query");
    if (source && saved) { saved.value = source.dataset.query; }
  }

  function init(root) {
    initCharts(root);
    initConfirm(root);
    syncExport();
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
