/* The offline reference basemap (参考底图): the county's own roads, rivers, outline, stations and valves from the
   `reference` vector tiles, drawn light in a pane beneath every risk layer, and the names of townships, villages,
   grid cells and stations written as text (textContent) in a pane above them that never takes a click. */
(function () {
  'use strict';

  var ROAD = {
    motorway: ['#f3b07a', 3.5], trunk: ['#f3b07a', 3.2], primary: ['#f6c68e', 3],
    secondary: ['#f9dfa8', 2.4], tertiary: ['#ffffff', 2], unclassified: ['#ffffff', 1.5]
  };

  function panes(map) {
    if (!map.getPane('rmReference')) {
      map.createPane('rmReference').style.zIndex = 250;          /* above online tiles (200), below overlays (400) */
      var labels = map.createPane('rmReferenceLabels');
      labels.style.zIndex = 450;                                  /* above the risk fills, below markers and popups */
      labels.style.pointerEvents = 'none';
    }
  }

  /* A road is a grey casing under its class colour, so a light road still shows through the risk fills. */
  function roadStyle(p, z) {
    var s = ROAD[p.road_class] || ['#ffffff', 1];
    var w = s[1] * (z >= 14 ? 1.6 : z >= 12 ? 1.2 : 1);
    return [{color: '#707070', weight: w + 2, opacity: 0.9}, {color: s[0], weight: w, opacity: 1}];
  }

  var STYLES = {
    boundary: function () { return {color: '#9e8fb2', weight: 2, dashArray: '8 4 2 4', opacity: 0.9}; },
    water: function (p, z) { return {color: '#7fb2e0', weight: z >= 12 ? 6 : z >= 10 ? 4 : 2.5, opacity: 1}; },
    road: roadStyle,
    place: function () { return {radius: 2, weight: 0, fill: true, fillColor: '#8d8d8d', fillOpacity: 0.8}; },
    facility: function (p) {
      var station = p.kind === 'station' || p.kind === 'depot';
      return {radius: station ? 5 : 3.5, weight: 1.5, color: '#6a1b9a', fill: true,
              fillColor: station ? '#e1bee7' : '#ffffff', fillOpacity: 1};
    }
  };

  /* A grid layer writing each tile's names (GET tiles/reference/{z}/{x}/{y}.json) as spans at their pixels. */
  var LabelLayer = L.GridLayer.extend({
    createTile: function (coords, done) {
      var tile = document.createElement('div');
      tile.className = 'rm-ref-labels';
      var url = this.options.labelUrl.replace('{z}', coords.z).replace('{x}', coords.x).replace('{y}', coords.y);
      fetch(url, {credentials: 'same-origin'})
        .then(function (r) { return r.ok ? r.json() : {labels: []}; })
        .then(function (data) {
          (data.labels || []).forEach(function (l) {
            var s = document.createElement('span');
            s.className = 'rm-ref-label rm-ref-' + l.kind;
            s.textContent = l.name;
            s.style.left = l.x + 'px';
            s.style.top = l.y + 'px';
            tile.appendChild(s);
          });
          done(null, tile);
        })
        .catch(function (e) { done(e, tile); });
      return tile;
    }
  });

  /* The basemap as one layer (a base layer in the layer control): lines and points, then the names. */
  function referenceBasemap(map, opts) {
    /* a map file opened from disk (riskmap map -o) has no server to draw its tiles: it stays without them */
    if (window.location.protocol === 'file:') { return L.layerGroup(); }
    panes(map);
    var lines = L.vectorGrid.protobuf(opts.tiles, {
      pane: 'rmReference', rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18,
      vectorTileLayerStyles: STYLES, attribution: opts.attribution, bounds: opts.bounds || undefined
    });
    var names = new LabelLayer({pane: 'rmReferenceLabels', labelUrl: opts.labels, maxNativeZoom: 18,
                                minZoom: 9, bounds: opts.bounds || undefined});
    var group = L.layerGroup([lines, names]);
    group.on('add', function () { map.getContainer().classList.add('rm-reference-on'); });
    group.on('remove', function () { map.getContainer().classList.remove('rm-reference-on'); });
    return group;
  }

  window.riskmap = window.riskmap || {};
  window.riskmap.referenceBasemap = referenceBasemap;
}());
