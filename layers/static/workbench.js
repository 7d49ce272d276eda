/* Workbench pages (ledgers, dossiers, 首页, plans): htmx settings (no eval, CSRF header on writes), the dossier's small map and the
   enterprise's risk history chart. Data comes from <script type="application/json"> blocks rendered with tojson;
   user text reaches the DOM as text only. No inline handlers, no eval. */
(function () {
  'use strict';


  function json(id) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  if (window.htmx) {
    // Shared by every workbench page (台账, 档案, 首页, 巡查计划): no eval, no scripts from answers, requests only to
    // this site, the CSRF header on writes, and a refused form (422) swapped in with its Chinese errors.
    window.htmx.config.allowEval = false;
    window.htmx.config.allowScriptTags = false;
    window.htmx.config.includeIndicatorStyles = false;
    window.htmx.config.selfRequestsOnly = true;
    window.htmx.config.responseHandling = [
      {code: '204', swap: false}, {code: '[23]..', swap: true}, {code: '422', swap: true},
      {code: '[45]..', swap: false, error: true}];
    document.body.addEventListener('htmx:configRequest', function (evt) {
      if (evt.detail.verb !== 'get') { evt.detail.headers['X-CSRF-Token'] = window.riskmap.csrfToken(); }
    });
  }

  var COLOURS = {red: '#d7191c', orange: '#fd8d3c', yellow: '#f2c500', blue: '#2c7bb6'};

  function drawMap() {
    var box = document.getElementById('wb-map');
    var data = json('wb-map-data');
    if (!box || !data || !window.L || !data.point) { return; }
    var map = window.L.map(box, {attributionControl: false, zoomControl: true, scrollWheelZoom: false});
    var group = window.L.featureGroup().addTo(map);
    if (data.township) {
      window.L.geoJSON(data.township, {style: {color: '#555', weight: 1, dashArray: '4 4', fill: false}}).addTo(map);
    }
    if (data.line) {
      window.L.geoJSON(data.line, {style: {color: '#6a3d9a', weight: 3}}).addTo(group);
    }
    window.L.geoJSON(data.point, {
      style: {color: '#d7191c', weight: 2, fillOpacity: 0.4},
      pointToLayer: function (f, latlng) {
        return window.L.circleMarker(latlng, {radius: 8, color: '#fff', weight: 2, fillColor: '#d7191c', fillOpacity: 1});
      }
    }).addTo(group);
    var pt = window.L.geoJSON(data.point).getBounds();
    if (pt.isValid()) {
      if (pt.getNorthEast().equals(pt.getSouthWest())) { map.setView(pt.getCenter(), 13); }
      else { map.fitBounds(pt.pad(1), {maxZoom: 17}); }
    }
  }

  function drawChart() {
    var box = document.getElementById('wb-risk-chart');
    var data = json('wb-chart-data');
    if (!box || !data || !window.echarts) { return; }
    if (!data.points.length) {
      box.textContent = '尚无风险评估历史。';
      box.className += ' wb-muted';
      return;
    }
    var chart = window.echarts.init(box, null, {renderer: 'svg'});
    var rank = {blue: 0, yellow: 1, orange: 2, red: 3};
    var names = ['蓝 低', '黄 一般', '橙 较大', '红 重大'];
    var points = data.points.map(function (p) { return [p.at, rank[p.level], p.score, p.level]; });
    points.push([new Date().toISOString(), points[points.length - 1][1], points[points.length - 1][2],
                 points[points.length - 1][3]]);
    chart.setOption({
      animation: false,
      grid: {left: 70, right: 50, top: 20, bottom: 40},
      tooltip: {trigger: 'axis', formatter: function (items) {
        var p = items[0].data;
        return String(p[0]).slice(0, 10) + '：' + names[p[1]] + '，分值 ' + p[2];
      }},
      xAxis: {type: 'time', axisLabel: {hideOverlap: true}},
      yAxis: [{type: 'category', data: names, boundaryGap: true}],
      series: [{type: 'line', step: 'end', data: points, symbolSize: 8,
                itemStyle: {color: function (p) { return COLOURS[p.data[3]] || '#888'; }},
                lineStyle: {color: '#555'}}]
    });
    window.addEventListener('resize', function () { chart.resize(); });
  }

  drawMap();
  drawChart();
})();
