/* The offline reference basemap (参考底图): the county's own roads, rivers, outline, stations and valves from the
   `reference` vector tiles, drawn light in a pane beneath every risk layer, and the names of townships, villages,
   grid cells and stations — carried in the same tiles — written as text (textContent) in a pane above them that
   never takes a click. */
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

  var KIND_ORDER = {township: 0, grid: 1, village: 2};

  /* The names of one decoded reference tile (its `place` layer, and `facility` from opts.facilityLabelZoom), in
     the pixels of a 256-px tile, townships first and in id order: what GET tiles/reference/{z}/{x}/{y}.json gives. */
  function tileLabels(vectorTile, z, facilityLabelZoom) {
    var out = [];
    ['place', 'facility'].forEach(function (name) {
      var layer = vectorTile.layers && vectorTile.layers[name];
      if (!layer || (name === 'facility' && z < facilityLabelZoom)) { return; }
      var scale = 256 / layer.extent;
      layer.features.forEach(function (f) {
        var p = f.properties || {}, pt = f.geometry && f.geometry[0] && f.geometry[0][0];
        if (!pt || !p.name) { return; }
        out.push({name: p.name, kind: p.kind, id: f.id || 0, x: pt.x * scale, y: pt.y * scale});
      });
    });
    out.sort(function (a, b) {
      var ka = a.kind in KIND_ORDER ? KIND_ORDER[a.kind] : 3, kb = b.kind in KIND_ORDER ? KIND_ORDER[b.kind] : 3;
      return ka - kb || a.id - b.id;
    });
    return out;
  }

  /* A grid layer writing each tile's names as spans at their pixels. The names come inside the reference tile the
     lines layer fetches (one request a tile, not two): that layer hands each decoded tile to `deliver`. */
  var LabelLayer = L.GridLayer.extend({
    initialize: function (options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this._waiting = {};   // tile key → the label tile's div and done callback, until its names arrive
      this._arrived = {};   // tile key → names that arrived before the label tile was made
    },
    deliver: function (coords, labels) {
      var key = this._tileCoordsToKey(coords), w = this._waiting[key];
      if (w) { delete this._waiting[key]; this._write(w.tile, labels); w.done(null, w.tile); return; }
      if (coords.z >= (this.options.minZoom || 0)) {
        this._arrived[key] = labels;
        var keys = Object.keys(this._arrived);
        if (keys.length > 256) { delete this._arrived[keys[0]]; }
      }
    },
    _write: function (tile, labels) {
      labels.forEach(function (l) {
        var s = document.createElement('span');
        s.className = 'rm-ref-label rm-ref-' + l.kind;
        s.textContent = l.name;
        s.style.left = (Math.round(l.x * 10) / 10) + 'px';
        s.style.top = (Math.round(l.y * 10) / 10) + 'px';
        tile.appendChild(s);
      });
    },
    createTile: function (coords, done) {
      var tile = document.createElement('div'), key = this._tileCoordsToKey(coords);
      tile.className = 'rm-ref-labels';
      if (this._arrived[key]) {
        this._write(tile, this._arrived[key]);
        delete this._arrived[key];
        setTimeout(function () { done(null, tile); }, 0);
      } else {
        this._waiting[key] = {tile: tile, done: done};
      }
      return tile;
    }
  });

  /* The lines' tiles, each decoded tile's names handed to the label layer. Defined when first needed: a page that
     loads this file without Leaflet.VectorGrid (one that never shows the basemap) must still load. */
  var ReferenceLines = null;
  function referenceLines() {
    ReferenceLines = ReferenceLines || L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise: function (coords) {
      var names = this.options.names, labelZoom = this.options.facilityLabelZoom;
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, coords).then(function (tile) {
        names.deliver(coords, tileLabels(tile, coords.z, labelZoom));
        return tile;
      }, function (err) {
        names.deliver(coords, []);
        throw err;
      });
    }
    });
    return ReferenceLines;
  }

  /* The basemap as one layer (a base layer in the layer control): lines and points, then the names. */
  function referenceBasemap(map, opts) {
    /* a map file opened from disk (riskmap map -o) has no server to draw its tiles: it stays without them */
    if (window.location.protocol === 'file:') { return L.layerGroup(); }
    panes(map);
    var names = new LabelLayer({pane: 'rmReferenceLabels', maxNativeZoom: 18, minZoom: 9,
                                bounds: opts.bounds || undefined});
    var Lines = referenceLines();
    var lines = new Lines(opts.tiles, {
      pane: 'rmReference', rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18,
      vectorTileLayerStyles: STYLES, attribution: opts.attribution, bounds: opts.bounds || undefined,
      names: names, facilityLabelZoom: opts.facilityLabelZoom || 13
    });
    var group = L.layerGroup([lines, names]);
    group.on('add', function () { map.getContainer().classList.add('rm-reference-on'); });
    group.on('remove', function () { map.getContainer().classList.remove('rm-reference-on'); });
    return group;
  }

  window.riskmap = window.riskmap || {};
  window.riskmap.referenceBasemap = referenceBasemap;
}());
