/* 首页 charts (ECharts): numbers come from the page's JSON block; clicking a bar or point opens the list behind it
   (the ledger filtered to that colour, month or status). No inline handlers, no eval. */
(function () {
  'use strict';
  var COLOURS = {red: '#e60012', orange: '#ff8c00', yellow: '#ffd400', blue: '#1f6fd6'};
  var STATUS_COLOURS = {found: '#e60012', confirmed: '#ff8c00', rectifying: '#ffd400', rectified: '#2e9d4c',
                        closed: '#607d8b'};

  function go(url) { if (url) { window.location.assign(url); } }

  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    var c = window.echarts.init(el, null, {renderer: 'svg'});
    window.addEventListener('resize', function () { c.resize(); });
    return c;
  }

  function grid() { return {left: 40, right: 16, top: 56, bottom: 30, containLabel: true}; }

  function colours(c, d, links) {
    var kinds = Object.keys(d.kinds);
    c.setOption({
      animation: false, tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}}, legend: {top: 0}, grid: grid(),
      xAxis: {type: 'category', data: kinds.map(function (k) { return d.kinds[k]; })},
      yAxis: {type: 'value', minInterval: 1},
      series: Object.keys(d.levels).map(function (lv) {
        return {name: d.levels[lv], type: 'bar', stack: 'n', itemStyle: {color: COLOURS[lv]}, cursor: 'pointer',
                data: kinds.map(function (k) { return d.counts[k][lv]; }), level: lv};
      })
    });
    var levels = Object.keys(d.levels);
    c.on('click', function (p) { go(links.colours[kinds[p.dataIndex]][levels[p.seriesIndex]]); });
  }

  function trend(c, d, links) {
    var select = document.getElementById('trend-kind');
    var levels = Object.keys(d.levels);
    function draw() {
      var kind = select ? select.value : 'enterprise';
      var s = d.trend.series[kind];
      c.setOption({
        animation: false, tooltip: {trigger: 'axis'}, legend: {top: 0}, grid: grid(),
        xAxis: {type: 'category', data: d.trend.months}, yAxis: {type: 'value', minInterval: 1},
        series: levels.map(function (lv) {
          return {name: d.levels[lv], type: 'line', data: s[lv], itemStyle: {color: COLOURS[lv]},
                  lineStyle: {color: COLOURS[lv]}, symbolSize: 7, cursor: 'pointer'};
        })
      }, true);
    }
    c.on('click', function (p) {
      var kind = select ? select.value : 'enterprise';
      go(links.colours[kind][levels[p.seriesIndex]]);
    });
    if (select) { select.addEventListener('change', draw); }
    draw();
  }

  function hazards(c, r, links) {
    c.setOption({
      animation: false, tooltip: {trigger: 'axis'}, legend: {top: 0}, grid: grid(),
      xAxis: {type: 'category', data: r.months},
      yAxis: [{type: 'value', name: '条', minInterval: 1}, {type: 'value', name: '整改率 %', max: 100, min: 0}],
      series: [
        {name: '发现', type: 'bar', data: r.found, itemStyle: {color: '#90a4ae'}, cursor: 'pointer'},
        {name: '已整改', type: 'bar', data: r.rectified, itemStyle: {color: '#2e9d4c'}, cursor: 'pointer'},
        {name: '整改率', type: 'line', yAxisIndex: 1, data: r.rate, itemStyle: {color: '#1f5fa8'}, connectNulls: true}
      ]
    });
    c.on('click', function (p) {
      go(p.seriesIndex === 1 ? links.status.rectified[p.dataIndex] : links.month[p.dataIndex]);
    });
  }

  function encroachments(c, r, links) {
    var statuses = Object.keys(r.status_labels);
    c.setOption({
      animation: false, tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}}, legend: {top: 0}, grid: grid(),
      xAxis: {type: 'category', data: r.months}, yAxis: {type: 'value', name: '处', minInterval: 1},
      series: statuses.map(function (s) {
        return {name: r.status_labels[s], type: 'bar', stack: 'n', data: r.by_status[s],
                itemStyle: {color: STATUS_COLOURS[s] || '#999'}, cursor: 'pointer'};
      })
    });
    c.on('click', function (p) { go(links.status[statuses[p.seriesIndex]][p.dataIndex]); });
  }

  function statusTotals(c, r, base) {
    var statuses = Object.keys(r.status_labels);
    c.setOption({
      animation: false, tooltip: {trigger: 'item'}, grid: {left: 8, right: 24, top: 8, bottom: 8, containLabel: true},
      xAxis: {type: 'value', minInterval: 1},
      yAxis: {type: 'category', inverse: true, data: statuses.map(function (s) { return r.status_labels[s]; })},
      series: [{type: 'bar', cursor: 'pointer', label: {show: true, position: 'right'},
                data: statuses.map(function (s) {
                  return {value: r.totals[s], itemStyle: {color: STATUS_COLOURS[s] || '#999'}};
                })}]
    });
    c.on('click', function (p) { go(base + '?status=' + encodeURIComponent(statuses[p.dataIndex])); });
  }

  function draw(block) {
    var all = JSON.parse(block.textContent);
    var d = all.data, links = all.links, c;
    if ((c = chart('chart-colours'))) { colours(c, d, links); }
    if ((c = chart('chart-trend'))) { trend(c, d, links); }
    if ((c = chart('chart-hazards'))) { hazards(c, d.hazards, links.hazards); }
    if ((c = chart('chart-enc-status'))) { statusTotals(c, d.encroachments, '/ledgers/encroachments'); }
    if ((c = chart('chart-encroachments'))) { encroachments(c, d.encroachments, links.encroachments); }
    document.documentElement.setAttribute('data-charts', 'drawn');
  }

  /* The numbers are in the page's tables from the start; ECharts (0.7 MB) and the week's due list are fetched once
     the page has loaded, then the charts are drawn, so the first view waits for neither. */
  window.addEventListener('load', function () {
    document.body.dispatchEvent(new CustomEvent('rmloaded'));  // 我的待办's due list (htmx) comes now too
    var block = document.getElementById('rm-dashboard-data');
    if (!block) { return; }
    var s = document.createElement('script');
    s.src = block.getAttribute('data-echarts');
    s.addEventListener('load', function () { draw(block); });
    document.head.appendChild(s);
  });
})();
