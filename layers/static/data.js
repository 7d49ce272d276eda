/* 数据管理 · 地图编辑 (/data/edit): select, move, reshape, add and delete single features with Leaflet-Geoman.
   Every write goes to the feature API (/layers/{layer}/features) with the version the form was filled from, so a
   stale form gets the API's 409 message; scope is the database's: a refusal comes back as 403 with a Chinese message.
   Values a user wrote reach the DOM as text only. No inline handlers, no eval. */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('edit-config').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var statusBox = $('edit-status'), form = $('edit-form'), fieldsBox = $('edit-fields');
  var layerSelect = $('edit-layer'), addButton = $('edit-add'), cancelButton = $('edit-cancel');
  var dot = function (on) { return L.divIcon({className: 'rm-edit-dot' + (on ? ' rm-edit-dot-on' : ''), iconSize: [16, 16]}); };

  var map = L.map('edit-map', {zoomControl: true});
  map.pm.setLang('zh');
  map.pm.setGlobalOptions({markerStyle: {icon: dot(true), draggable: false}, allowSelfIntersection: false,
                           snappable: false});
  (config.tiles || []).forEach(function (t) {
    L.tileLayer(t.url, {attribution: t.attr, subdomains: t.subdomains, maxZoom: 18, pmIgnore: true}).addTo(map);
  });
  var outline = L.featureGroup().addTo(map);
  var shown = L.featureGroup().addTo(map);
  var current = null;   /* {layer, id (null when new), version, props, lyr, geometry, moved} */
  var drawing = false;
  var listNote = false;  /* the status line holds a note about the list (nothing here / zoom in) */
  window.riskmapEdit = {map: map};  /* for the browser tests: where a feature is on screen */


  function say(text, kind) {
    listNote = false;
    statusBox.textContent = text || '';
    statusBox.className = 'rm-status' + (kind ? ' rm-status-' + kind : '');
    if (kind && statusBox.scrollIntoView) { statusBox.scrollIntoView({block: 'nearest'}); }
  }

  /* fetch JSON with the CSRF header; resolves {ok, status, data} (data: parsed body or null). */
  function api(method, url, body) {
    var opts = {method: method, credentials: 'same-origin', headers: {'Accept': 'application/json'}};
    if (method !== 'GET') { opts.headers['X-CSRF-Token'] = window.riskmap.csrfToken(); }
    if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      if (r.status === 204) { return {ok: true, status: 204, data: null}; }
      return r.json().then(function (d) { return {ok: r.ok, status: r.status, data: d}; },
                           function () { return {ok: r.ok, status: r.status, data: null}; });
    }, function () { return {ok: false, status: 0, data: null}; });
  }

  function failure(res) {
    var msg = (res.data && res.data.message) || (res.status ? '请求失败（' + res.status + '）' : '网络不通，未保存');
    if (res.status === 409 && res.data && res.data.code === 'conflict') { msg += '。点“取消”会重新读取最新数据。'; }
    if (res.status === 401) { msg = '登录已失效，请刷新页面重新登录'; }
    return msg;
  }

  function spec() { return config.layers[layerSelect.value]; }

  function layerUrl(name, id) {
    return '/layers/' + encodeURIComponent(name) + '/features' + (id === undefined ? '' : '/' + encodeURIComponent(id));
  }

  /* the user's townships as a grey outline (row-level security gives only those), and the first view */
  api('GET', '/layers/township/features?limit=500').then(function (res) {
    if (res.ok && res.data.features.length) {
      L.geoJSON(res.data, {pmIgnore: true, interactive: false,
                           style: {color: '#555', weight: 1.5, fill: true, fillOpacity: 0.03, dashArray: '4 3'},
                           onEachFeature: function (f, lyr) {
                             var s = document.createElement('span');
                             s.textContent = f.properties.name || '';
                             lyr.bindTooltip(s, {permanent: true, direction: 'center', className: 'rm-edit-town'});
                           }})
        .addTo(outline);
      map.fitBounds(outline.getBounds());
    } else {
      map.setView([39.2, 111.3], 10);
    }
    load();
  });

  function featureLayer(f) {
    var lyr;
    if (f.geometry && f.geometry.type === 'Point') {
      var c = f.geometry.coordinates;
      lyr = L.marker([c[1], c[0]], {icon: dot(false), pmIgnore: false});
    } else {
      lyr = L.geoJSON(f, {style: {color: '#1f5fa8', weight: 2, fillOpacity: 0.15}}).getLayers()[0];
    }
    var label = f.properties.name || f.properties.code || ('#' + f.id);
    lyr.bindTooltip(function () { var s = document.createElement('span'); s.textContent = label; return s; });
    lyr.featureId = f.id;
    lyr.on('click', function () { if (!drawing) { select(layerSelect.value, f.id, lyr); } });
    return lyr;
  }

  function load() {
    if (current || drawing) { return; }
    var name = layerSelect.value;
    var b = map.getBounds();
    if (name === 'building' && map.getZoom() < 13) {
      shown.clearLayers();
      say('建筑较多：请放大地图后显示。');
      listNote = true;
      return;
    }
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); });
    api('GET', layerUrl(name) + '?limit=2000&bbox=' + bbox.join(',')).then(function (res) {
      if (current || drawing || name !== layerSelect.value) { return; }
      shown.clearLayers();
      if (!res.ok) { say(failure(res), 'error'); return; }
      res.data.features.forEach(function (f) { featureLayer(f).addTo(shown); });
      /* a note about the list only; what a save or refusal said stays */
      if (!res.data.features.length) { say('当前范围内没有' + spec().title + '。'); listNote = true; }
      else if (res.data.links && res.data.links.length) {
        say('当前范围内' + spec().title + '较多，只显示前 2000 个：请放大地图。');
        listNote = true;
      } else if (listNote) { say(''); listNote = false; }
    });
  }

  map.on('moveend', load);
  layerSelect.addEventListener('change', function () { finish(); load(); });

  function setEditing(lyr, on) {
    if (lyr.setIcon) {
      lyr.setIcon(dot(on));
      if (on) { lyr.dragging.enable(); } else { lyr.dragging.disable(); }
    } else if (on) {
      lyr.pm.enable({allowSelfIntersection: false});
      lyr.setStyle({color: '#d84315'});
    } else {
      lyr.pm.disable();
      lyr.setStyle({color: '#1f5fa8'});
    }
  }

  function watchGeometry(lyr) {
    lyr.on('dragend pm:edit pm:dragend pm:markerdragend pm:vertexremoved', function () {
      if (current && current.lyr === lyr) { current.moved = true; say('位置已改动，点“保存”提交。'); }
    });
  }

  function select(name, id, lyr) {
    finish(true);
    api('GET', layerUrl(name, id)).then(function (res) {
      if (!res.ok) { say(failure(res), 'error'); return; }
      current = {layer: name, id: id, version: res.data.properties.version, props: res.data.properties, lyr: lyr,
                 geometry: res.data.geometry, moved: false};
      setEditing(lyr, true);
      watchGeometry(lyr);
      showForm(spec().title + '：' + (res.data.properties.name || res.data.properties.code || ('#' + id)), true);
      say(spec().kind === 'point' ? '可拖动该点到新位置，修改属性后点“保存”。' : '可拖动顶点修改形状，修改属性后点“保存”。');
    });
  }

  function input(field, value) {
    var box = document.createElement('div');
    var label = document.createElement('label');
    var id = 'f-' + field.name;
    label.htmlFor = id;
    label.textContent = field.label + (field.required ? '（必填）' : '');
    var el;
    if (field.kind === 'bool' || field.choices) {
      el = document.createElement('select');
      var options = field.kind === 'bool' ? [['', '未填'], ['true', '是'], ['false', '否']]
        : [['', '未填']].concat(Object.keys(field.choices).map(function (k) { return [k, field.choices[k]]; }));
      options.forEach(function (o) {
        var opt = document.createElement('option');
        opt.value = o[0]; opt.textContent = o[1];
        el.appendChild(opt);
      });
    } else {
      el = document.createElement('input');
      if (field.kind === 'int') { el.type = 'number'; el.min = '0'; el.step = '1'; }
    }
    el.id = id;
    el.name = field.name;
    if (field.required) { el.required = true; }
    el.value = value === null || value === undefined ? '' : String(value);
    box.appendChild(label);
    box.appendChild(el);
    return box;
  }

  function showForm(title, existing) {
    $('edit-title').textContent = title;
    fieldsBox.textContent = '';
    spec().fields.forEach(function (f) { fieldsBox.appendChild(input(f, current.props[f.name])); });
    $('edit-delete').hidden = !existing;
    form.hidden = false;
    cancelButton.hidden = false;
  }

  function typed(field, raw) {
    if (raw === '') { return null; }
    if (field.kind === 'int') { var n = Number(raw); return Number.isInteger(n) ? n : raw; }
    if (field.kind === 'bool') { return raw === 'true'; }
    return raw;
  }

  function formValues() {
    var out = {};
    spec().fields.forEach(function (f) { out[f.name] = typed(f, $('f-' + f.name).value.trim()); });
    return out;
  }

  function geometryOf(lyr) { return lyr.toGeoJSON().geometry; }

  /* leave the selection: stop editing; an unsaved move is put back (or a drawn new shape removed) */
  function finish(keepList) {
    if (current) {
      setEditing(current.lyr, false);
      if (current.id === null) {
        map.removeLayer(current.lyr);
      } else if (current.moved) {
        shown.removeLayer(current.lyr);
        current = null;
        load();
      }
    }
    current = null;
    form.hidden = true;
    cancelButton.hidden = true;
    if (drawing) { map.pm.disableDraw(); drawing = false; }
    if (!keepList) { say(''); }
  }

  cancelButton.addEventListener('click', function () { var c = current; finish(); if (c && c.id !== null) { reload(); } });

  function reload() { shown.clearLayers(); load(); }

  addButton.addEventListener('click', function () {
    finish();
    drawing = true;
    cancelButton.hidden = false;
    map.pm.enableDraw(spec().kind === 'point' ? 'Marker' : 'Polygon', {markerStyle: {icon: dot(true)}});
    say(spec().kind === 'point' ? '在地图上点击放置新的' + spec().title + '。' : '在地图上逐点绘制面，点击第一个点结束。');
  });

  map.on('pm:create', function (e) {
    drawing = false;
    map.pm.disableDraw();
    current = {layer: layerSelect.value, id: null, version: null, props: {}, lyr: e.layer, geometry: null, moved: true};
    if (e.layer.setIcon) { e.layer.dragging.enable(); } else { e.layer.pm.enable({allowSelfIntersection: false}); }
    showForm('新增' + spec().title, false);
    say('填写属性后点“保存”。', null);
  });

  function changedProps(values) {
    var out = {};
    Object.keys(values).forEach(function (k) {
      var before = current.props[k] === undefined ? null : current.props[k];
      if (values[k] !== before) { out[k] = values[k]; }
    });
    return out;
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (!current) { return; }
    var values = formValues();
    var req;
    if (current.id === null) {
      var props = {};
      Object.keys(values).forEach(function (k) { if (values[k] !== null) { props[k] = values[k]; } });
      req = api('POST', layerUrl(current.layer), {type: 'Feature', properties: props, geometry: geometryOf(current.lyr)});
    } else {
      var body = {version: current.version, properties: changedProps(values)};
      if (current.moved) { body.geometry = geometryOf(current.lyr); }
      if (!current.moved && !Object.keys(body.properties).length) { say('没有修改。'); return; }
      req = api('PATCH', layerUrl(current.layer, current.id), body);
    }
    $('edit-save').disabled = true;
    say('正在保存……');
    req.then(function (res) {
      $('edit-save').disabled = false;
      if (!res.ok) {
        var refusedMove = res.status === 403 && current.moved && current.id !== null;
        if (refusedMove && current.lyr.setLatLng) {
          var c = current.geometry.coordinates;
          current.lyr.setLatLng([c[1], c[0]]);  /* the database kept the old position: show it */
          current.moved = false;
        } else if (refusedMove) {
          finish(true);  /* the old shape again, from the database */
        }
        say('未保存：' + failure(res), 'error');
        return;
      }
      var saved = res.data;
      var created = current.id === null;
      setEditing(current.lyr, false);
      if (created) { map.removeLayer(current.lyr); }
      current = null;
      form.hidden = true;
      cancelButton.hidden = true;
      reload();
      say((created ? '已新增' : '已保存') + '：' + (saved.properties.name || saved.properties.code || ('#' + saved.id))
          + '（版本 ' + saved.properties.version + '）', 'ok');
    });
  });

  $('edit-delete').addEventListener('click', function () {
    if (!current || current.id === null) { return; }
    var name = current.props.name || current.props.code || ('#' + current.id);
    if (!window.confirm('确定删除' + spec().title + '「' + name + '」吗？删除会记入审计日志。')) { return; }
    api('DELETE', layerUrl(current.layer, current.id) + '?version=' + encodeURIComponent(current.version))
      .then(function (res) {
        if (!res.ok) { say('未删除：' + failure(res), 'error'); return; }
        shown.removeLayer(current.lyr);
        current = null;
        form.hidden = true;
        cancelButton.hidden = true;
        say('已删除：' + name, 'ok');
      });
  });
})();
