/* riskmap map pages, read at a glance: cluster bubbles in their worst level's colour, one filled area layer at a
   time, the legend and layer control folding to buttons on a phone, 定位, a Chinese metric scale and a north
   arrow. Text reaches the DOM as text nodes only. Loaded after riskmap.js; adds to window.riskmap. */
(function () {
  'use strict';
  var rm = window.riskmap;
  var ORDER = ['red', 'orange', 'yellow', 'blue'];
  var LABELS = {red: '重大', orange: '较大', yellow: '一般', blue: '低', none: '未评估'};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function isPhone() { return window.matchMedia('(max-width: 600px)').matches; }

  /* A cluster's bubble: the colour of the worst level inside it; the counts per colour on hover (title). */
  function clusterIcon(cluster) {
    var counts = {red: 0, orange: 0, yellow: 0, blue: 0, none: 0}, colours = {};
    cluster.getAllChildMarkers().forEach(function (m) {
      var lv = (m.feature && m.feature.properties && m.feature.properties.level) || 'none';
      if (!(lv in counts)) { lv = 'none'; }
      counts[lv] += 1;
      colours[lv] = m.options.fillColor;
    });
    var worst = 'none';
    for (var i = 0; i < ORDER.length; i++) { if (counts[ORDER[i]]) { worst = ORDER[i]; break; } }
    var n = cluster.getChildCount(), size = n < 10 ? 28 : n < 100 ? 34 : 40;
    var d = el('div', 'rm-cluster rm-cluster-' + worst, n);
    d.style.background = colours[worst] || '#9e9e9e';
    d.style.width = d.style.height = d.style.lineHeight = size + 'px';
    d.setAttribute('data-level', worst);
    d.title = ORDER.concat(['none']).filter(function (k) { return counts[k]; })
      .map(function (k) { return LABELS[k] + ' ' + counts[k]; }).join('，');
    return L.divIcon({html: d, className: 'rm-cluster-icon', iconSize: [size, size]});
  }

  function leaves(layer, out) {
    if (layer.eachLayer) { layer.eachLayer(function (l) { leaves(l, out); }); }
    else if (layer.setStyle) { out.push(layer); }
    return out;
  }

  /* Of the area layers (least to most detailed) only the most detailed one on the map is filled; the others keep
     their outlines. A blue grid cell over a red township would otherwise read as a fifth, purple, level. */
  function areaLayers(map, groups) {
    function apply() {
      var filled = null;
      groups.forEach(function (g) { if (map.hasLayer(g)) { filled = g; } });
      groups.forEach(function (g) {
        leaves(g, []).forEach(function (l) {
          if (l.options._rmFill === undefined) { l.options._rmFill = l.options.fillOpacity; }
          l.setStyle({fillOpacity: g === filled ? l.options._rmFill : 0});
        });
      });
    }
    map.on('overlayadd overlayremove', apply);
    apply();
    window.addEventListener('load', apply);  // vector-tile layers join the map on load (layers/vector.py)
  }

  /* The legend as a map control (so it is printed with the map); on a phone it folds to a 图例 button. */
  function legendControl(map) {
    var box = document.getElementById('rm-legend');
    if (!box) { return; }
    var c = L.control({position: 'bottomright'});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', 'leaflet-bar rm-legend-control');
      var b = el('a', 'rm-legend-toggle', '图例');
      b.href = '#'; b.setAttribute('role', 'button'); b.title = '显示/隐藏图例';
      div.appendChild(b);
      div.appendChild(box);
      box.classList.remove('leaflet-control');
      if (isPhone()) { div.classList.add('rm-folded'); }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      L.DomEvent.on(b, 'click', function (e) { L.DomEvent.preventDefault(e); div.classList.toggle('rm-folded'); });
      return div;
    };
    c.addTo(map);
  }

  /* 定位: the browser's own position (navigator.geolocation, no request leaves the machine), shown as a dot. */
  function locateControl(map) {
    var c = L.control({position: 'topleft'}), me = null, out;
    c.onAdd = function () {
      var div = L.DomUtil.create('div', 'leaflet-bar rm-locate');
      var b = el('a', null, '定位');
      b.href = '#'; b.title = '定位到我的位置'; b.setAttribute('role', 'button');
      out = el('span', 'rm-measure-out');
      div.appendChild(b); div.appendChild(out);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.on(b, 'click', function (e) {
        L.DomEvent.preventDefault(e);
        out.textContent = '正在定位…';
        map.locate({setView: true, maxZoom: 16, enableHighAccuracy: true});
      });
      return div;
    };
    map.on('locationfound', function (e) {
      out.textContent = '';
      if (me) { map.removeLayer(me); }
      me = L.circleMarker(e.latlng, {radius: 7, color: '#fff', weight: 2, fillColor: '#1a73e8', fillOpacity: 1,
                                     className: 'rm-me'}).addTo(map);
    });
    map.on('locationerror', function () { out.textContent = '无法获取位置（请允许浏览器定位）'; });
    c.addTo(map);
    return c;
  }

  function northArrow(map) {
    var c = L.control({position: 'bottomleft'});
    c.onAdd = function () {
      var d = L.DomUtil.create('div', 'rm-north');
      d.appendChild(el('div', 'rm-north-arrow', '▲'));
      d.appendChild(el('div', null, '北'));
      d.title = '上方为正北';
      return d;
    };
    c.addTo(map);
  }

  rm.isPhone = isPhone;
  rm.clusterIcon = clusterIcon;
  rm.areaLayers = areaLayers;
  rm.legendControl = legendControl;
  rm.locateControl = locateControl;
  rm.northArrow = northArrow;
})();
