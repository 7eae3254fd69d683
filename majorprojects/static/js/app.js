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
    },
    // Dispatch overview: monthly done this year vs last year (bars), cumulative % of the annual
    // plan against time progress (lines). Amounts arrive as strings in data.unit; null = no data.
    "dispatch-trend": function (data) {
      function num(values) {
        return values.map(function (v) { return v === null ? null : Number(v); });
      }
      var thisYear = data.year + "年当月完成", lastYear = (data.year - 1) + "年同月完成";
      var planPct = "累计完成占年度计划", timePct = "时间进度";
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, type: "scroll", data: [thisYear, lastYear, planPct, timePct] },
        grid: { left: 60, right: 50, bottom: 30, top: 60 },
        xAxis: { type: "category", data: data.months },
        yAxis: [
          { type: "value", name: data.unit },
          { type: "value", name: "%", min: 0, max: function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); } }
        ],
        series: [
          { name: thisYear, type: "bar", data: num(data.this_year), itemStyle: { color: "#1f5fa8" } },
          { name: lastYear, type: "bar", data: num(data.last_year), itemStyle: { color: "#a9bcd6" } },
          { name: planPct, type: "line", yAxisIndex: 1, data: num(data.plan_pct), itemStyle: { color: "#d9822b" } },
          { name: timePct, type: "line", yAxisIndex: 1, data: num(data.time_pct), symbol: "none",
            lineStyle: { type: "dashed" }, itemStyle: { color: "#6c757d" } }
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
  // Back/forward after an HTMX swap restores a snapshot of the page. Its chart elements are
  // copies whose ECharts instances stayed with the old nodes, and htmx drops <script> elements
  // (allowScriptTags: false), json_script data included: reload such a page from the server.
  document.addEventListener("htmx:historyRestore", function () {
    var charts = document.querySelectorAll("[data-chart]");
    var lost = Array.prototype.some.call(charts, function (el) { return !document.getElementById(el.dataset.source); });
    if (lost) { window.location.reload(); return; }
    charts.forEach(function (el) {
      delete el.dataset.ready;
      el.removeAttribute("_echarts_instance_");
      el.innerHTML = "";
    });
    init(document);
  });
})();
