// Funds pages: the overview's chart of allocated vs paid by programme. Data comes from a
// json_script block named by the element's data-source (CSP: no inline scripts). Amounts and
// rates arrive as strings; null means no figure.
(function () {
  "use strict";

  var builders = {
    programme: function (data) {
      function num(values) {
        return values.map(function (v) { return v === null ? null : Number(v); });
      }
      var allocated = "下达金额", paid = "已支付", rate = "支付率";
      return {
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [allocated, paid, rate] },
        grid: { left: 60, right: 50, bottom: 60, top: 50 },
        xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 4 ? 30 : 0 } },
        yAxis: [
          { type: "value", name: data.unit },
          { type: "value", name: "%", min: 0, max: 100 }
        ],
        series: [
          { name: allocated, type: "bar", data: num(data.allocated), itemStyle: { color: "#a9bcd6" } },
          { name: paid, type: "bar", data: num(data.paid), itemStyle: { color: "#1f5fa8" } },
          { name: rate, type: "line", yAxisIndex: 1, data: num(data.rate), itemStyle: { color: "#d9822b" } }
        ]
      };
    }
  };

  function init(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-funds-chart]").forEach(function (el) {
      var build = builders[el.dataset.fundsChart];
      var source = document.getElementById(el.dataset.source);
      if (!build || !source || el.dataset.ready) { return; }
      el.dataset.ready = "1";
      var chart = window.echarts.init(el);
      chart.setOption(build(JSON.parse(source.textContent)));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
  // A restored HTMX history snapshot has lost its json_script data and its ECharts instance.
  document.addEventListener("htmx:historyRestore", function () {
    var charts = document.querySelectorAll("[data-funds-chart]");
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
