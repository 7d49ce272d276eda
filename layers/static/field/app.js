/* 现场端: my stops (today, this week), records made on the phone into the offline queue, the queue itself, and a
   small offline map. Every text that came from the server or a person reaches the DOM as textContent. */
(function () {
  'use strict';

  var S = window.FieldStore, P = window.FieldPhoto;
  var state = {tasks: null, layers: null, position: null, photos: [], replacing: null};
  var STATE_LABELS = {pending: '待发送', sending: '发送中', refused: '已退回', sent: '已发送'};
  var KIND_LABELS = {inspection: '检查结果', hazard: '新隐患', encroachment: '新占压点', progress: '整改进展', stop: '站点标记'};
  var COLOURS = {red: '#e53935', orange: '#fb8c00', yellow: '#fdd835', blue: '#1e88e5'};

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function local(iso) {
    var d = new Date(iso), p = function (n) { return (n < 10 ? '0' : '') + n; };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) +
      ':' + p(d.getSeconds());
  }
  function today() {
    var d = new Date(), m = d.getMonth() + 1, day = d.getDate();
    return d.getFullYear() + '-' + (m < 10 ? '0' : '') + m + '-' + (day < 10 ? '0' : '') + day;
  }

  /* ---- tabs and connection ------------------------------------------------------------------------------- */
  function show(tab) {
    document.querySelectorAll('.fd-tab').forEach(function (s) { s.hidden = s.id !== 'tab-' + tab; });
    document.querySelectorAll('.fd-tabs button').forEach(function (b) {
      if (b.getAttribute('data-tab') === tab) { b.setAttribute('aria-current', 'page'); } else { b.removeAttribute('aria-current'); }
    });
    if (tab === 'map') { drawMap(); }
    if (tab === 'record') { miniMap(); }
    document.body.setAttribute('data-tab', tab);
  }
  document.querySelectorAll('.fd-tabs button').forEach(function (b) {
    b.addEventListener('click', function () { show(b.getAttribute('data-tab')); });
  });

  function online() {
    var on = navigator.onLine, badge = $('fd-online');
    badge.textContent = on ? '在线' : '离线';
    badge.classList.toggle('fd-off', !on);
    if (on) { replay(); }
  }
  window.addEventListener('online', online);
  window.addEventListener('offline', online);

  /* ---- tasks -------------------------------------------------------------------------------------------- */
  function fetchJson(url, key) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}}).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    }).then(function (data) {
      return S.save(key, data).then(function () { return {data: data, cached: false}; });
    }).catch(function () {
      return S.load(key).then(function (row) { return row ? {data: row.value, cached: true, at: row.at} : null; });
    });
  }

  function stopCard(s) {
    var li = el('li', 'fd-card');
    li.id = 'stop-' + s.stop_id;
    li.setAttribute('data-stop', s.stop_id);
    var h = el('h3', null, (s.seq ? s.seq + '. ' : '') + s.name);
    li.appendChild(h);
    var due = el('span', 'fd-due fd-due-' + s.due, s.due_label);
    var line = el('p');
    line.appendChild(due);
    line.appendChild(document.createTextNode(' ' + s.team + ' · ' + s.day + (s.arrival ? ' · 预计 ' + s.arrival + ' 到达' : '') +
                                             ' · ' + s.colour_label));
    li.appendChild(line);
    li.appendChild(el('p', null, '地址：' + (s.address || '—')));
    li.appendChild(el('p', null, '联系人：' + (s.contact || '—')));
    li.appendChild(el('p', null, '原因：' + (s.reasons || []).join('；')));
    var act = el('div', 'fd-actions');
    if (s.lat != null && s.lon != null) {
      var nav = el('a', 'fd-nav', '导航');
      nav.href = 'geo:' + s.lat.toFixed(6) + ',' + s.lon.toFixed(6) + '?q=' + s.lat.toFixed(6) + ',' + s.lon.toFixed(6) +
        '(' + encodeURIComponent(s.name) + ')';
      act.appendChild(nav);
    }
    [['arrived', '已到达'], ['completed', '已完成']].forEach(function (m) {
      var b = el('button', 'fd-mark-' + m[0], m[1]);
      b.type = 'button';
      b.addEventListener('click', function () {
        enqueue({kind: 'stop', url: '/api/field/stops/' + s.stop_id + '/mark', label: m[1] + ' ' + s.name,
                 body: {plan_id: s.plan_id, mark: m[0], at: new Date().toISOString()}, photos: []});
        due.textContent = m[1] + '（待发送）';
      });
      act.appendChild(b);
    });
    var rec = el('button', 'fd-record', '记录结果');
    rec.type = 'button';
    rec.addEventListener('click', function () {
      $('fd-kind').value = 'inspection';
      kindChanged();
      $('fd-stop').value = String(s.stop_id);
      show('record');
    });
    act.appendChild(rec);
    li.appendChild(act);
    return li;
  }

  function renderTasks(got) {
    var t = got && got.data;
    state.tasks = t;
    var note = $('fd-sync');
    if (!t) { note.textContent = '无法读取任务：没有信号，手机上也还没有保存过任务'; return; }
    note.textContent = (t.plan ? '巡查计划 #' + t.plan.id + '（' + t.plan.start + ' 至 ' + t.plan.end + '）' : '暂无巡查计划') +
      (got.cached ? ' · 离线：显示 ' + local(got.at).slice(0, 16) + ' 保存的任务' : ' · 已同步');
    [['fd-today', t.stops_today, '今日没有站点'],
     ['fd-week', t.stops_week.filter(function (s) { return s.day !== t.today; }), '本周其他日子没有站点']].forEach(function (x) {
      var ol = $(x[0]);
      ol.textContent = '';
      if (!x[1].length) { ol.appendChild(el('li', 'fd-note', x[2])); }
      x[1].forEach(function (s) { ol.appendChild(stopCard(s)); });
    });
    var open = $('fd-open');
    open.textContent = '';
    ['hazard', 'encroachment'].forEach(function (kind) {
      (t.open[kind] || []).slice(0, 30).forEach(function (i) {
        open.appendChild(el('li', 'fd-card', (kind === 'hazard' ? '隐患 ' : '占压点 ') + i.code + ' · ' + i.status_label +
          (i.deadline ? ' · 期限 ' + i.deadline : '') + (i.overdue ? '（逾期）' : '') + (i.township ? ' · ' + i.township : '')));
      });
    });
    fillSelects(t);
    var progress = document.querySelector('#fd-kind option[value=progress]');
    progress.hidden = progress.disabled = !t.can_progress;
    $('fd-open-head').hidden = $('fd-open').hidden = !t.can_progress;
  }

  function option(select, value, label) {
    var o = el('option', null, label);
    o.value = String(value);
    select.appendChild(o);
  }

  function fillSelects(t) {
    var stop = $('fd-stop'), ent = $('fd-enterprise'), item = $('fd-item');
    stop.textContent = ''; ent.textContent = ''; item.textContent = '';
    var seen = {};
    t.stops_week.forEach(function (s) {
      option(stop, s.stop_id, s.day + ' ' + (s.seq || '') + '. ' + s.name);
      if (!seen[s.enterprise_id]) { seen[s.enterprise_id] = 1; option(ent, s.enterprise_id, s.name); }
    });
    /* A grid officer (township editor) may record a hazard at any enterprise of its townships, not only at the
       plan's stops: the others follow, nearest first (an inspector may only at its team's stops, so it gets none). */
    if (t.can_progress && state.layers && state.layers.enterprise) {
      var here = state.position;
      var rest = state.layers.enterprise.features.filter(function (f) { return !seen[f.properties.id]; });
      var away = function (f) {
        if (!here) { return 0; }
        var c = f.geometry.coordinates, dx = (c[0] - here.lon) * Math.cos(here.lat * Math.PI / 180), dy = c[1] - here.lat;
        return dx * dx + dy * dy;
      };
      rest.sort(function (a, b) { return away(a) - away(b) || String(a.properties.name).localeCompare(String(b.properties.name), 'zh'); });
      rest.forEach(function (f) { seen[f.properties.id] = 1; option(ent, f.properties.id, f.properties.name); });
    }
    ['hazard', 'encroachment'].forEach(function (kind) {
      (t.open[kind] || []).forEach(function (i) {
        option(item, kind + ':' + i.code, (kind === 'hazard' ? '隐患 ' : '占压点 ') + i.code + '（' + i.status_label + '）');
      });
    });
  }

  function loadTasks() {
    return fetchJson('/api/field/tasks', 'tasks').then(renderTasks);
  }

  /* ---- position ------------------------------------------------------------------------------------------- */
  var mini = null, pin = null;
  function showPosition() {
    var p = state.position, out = $('fd-pos');
    if (!p) { out.textContent = '尚未定位'; return; }
    out.textContent = '经度 ' + p.lon.toFixed(6) + '，纬度 ' + p.lat.toFixed(6) +
      (p.accuracy_m != null ? '，精度 ±' + Math.round(p.accuracy_m) + ' 米' : '（已在地图上修正）');
    if (pin) { pin.setLatLng([p.lat, p.lon]); mini.panTo([p.lat, p.lon]); }
  }
  function locate() {
    if (!navigator.geolocation) { $('fd-pos').textContent = '此手机不能定位：请在地图上拖动标记'; return; }
    $('fd-pos').textContent = '正在定位…';
    navigator.geolocation.getCurrentPosition(function (g) {
      state.position = {lon: g.coords.longitude, lat: g.coords.latitude, accuracy_m: g.coords.accuracy};
      showPosition();
      nearbyPipelines();
    }, function (e) {
      $('fd-pos').textContent = '定位失败（' + (e.code === 1 ? '未允许定位' : '无卫星信号') + '）：请在地图上拖动标记';
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
  }
  $('fd-locate').addEventListener('click', locate);

  function miniMap() {
    if (mini || !window.L) { return; }
    var p = state.position || {lat: 39.38, lon: 111.15};
    mini = L.map('fd-minimap', {zoomControl: true, attributionControl: false}).setView([p.lat, p.lon], 15);
    addLayers(mini);
    pin = L.marker([p.lat, p.lon], {draggable: true, icon: L.divIcon({className: '', html: '<div class="fd-pin"></div>',
                                                                    iconSize: [24, 24], iconAnchor: [12, 12]})}).addTo(mini);
    pin.on('dragend', function () {
      var ll = pin.getLatLng();
      state.position = {lon: ll.lng, lat: ll.lat, accuracy_m: null};
      showPosition();
      nearbyPipelines();
    });
  }

  function nearbyPipelines() {
    var p = state.position, sel = $('fd-pipeline');
    if (!p || !navigator.onLine) { return; }
    fetch('/api/field/pipelines/nearby?lon=' + p.lon + '&lat=' + p.lat, {credentials: 'same-origin'})
      .then(function (r) { return r.ok ? r.json() : []; }).then(function (rows) {
        sel.textContent = '';
        option(sel, '', '最近的管道');
        rows.forEach(function (r) { option(sel, r.code, r.name + '（' + r.code + '，' + r.distance_m + ' 米）'); });
      }).catch(function () {});
  }

  /* ---- record form ------------------------------------------------------------------------------------------- */
  function kindChanged() {
    var k = $('fd-kind').value;
    document.querySelectorAll('[data-for]').forEach(function (d) { d.hidden = d.getAttribute('data-for') !== k; });
  }
  $('fd-kind').addEventListener('change', kindChanged);

  $('fd-photos').addEventListener('change', function () {
    var files = Array.prototype.slice.call($('fd-photos').files || []);
    var pos = state.position;
    Promise.all(files.map(function (f) {
      return P.compress(f, pos).then(function (blob) {
        return blob.arrayBuffer().then(function (buf) { return crypto.subtle.digest('SHA-256', buf); }).then(function (d) {
          var hex = Array.prototype.map.call(new Uint8Array(d), function (x) { return (x + 256).toString(16).slice(1); }).join('');
          return {client_id: S.uuid(), blob: blob, name: f.name.replace(/\.[^.]*$/, '') + '.jpg', size: blob.size, sha256: hex};
        });
      });
    })).then(function (photos) {
      state.photos = state.photos.concat(photos);
      $('fd-photos').value = '';
      renderPhotos();
    });
  });

  function renderPhotos() {
    var ul = $('fd-photo-list');
    ul.textContent = '';
    state.photos.forEach(function (p) {
      var li = el('li');
      var img = el('img');
      img.alt = p.name;
      img.src = URL.createObjectURL(p.blob);
      li.appendChild(img);
      ul.appendChild(li);
    });
  }

  function value(id) { return $(id).value.trim(); }

  /* The form as a record for the queue, or a Chinese message naming the field to fill. */
  function build() {
    var k = $('fd-kind').value, pos = state.position, form = {};
    document.querySelectorAll('#fd-form [name]').forEach(function (f) { if (f.type !== 'file') { form[f.name] = f.value; } });
    if (k === 'inspection') {
      var stop = (state.tasks && state.tasks.stops_week || []).filter(function (s) { return String(s.stop_id) === $('fd-stop').value; })[0];
      if (!stop) { return '请选择站点'; }
      var findings = value('fd-finding') ? [{level: $('fd-finding-level').value, description: value('fd-finding')}] : [];
      return {kind: k, url: '/api/field/inspections', label: stop.name, form: form,
              body: {plan_id: stop.plan_id, stop_id: stop.stop_id, inspected_on: today(), result: value('fd-result') || null,
                     findings: findings, position: pos}};
    }
    if (k === 'hazard') {
      if (!$('fd-enterprise').value) { return '请选择企业'; }
      if (!value('fd-hazard-text')) { return '请填写隐患描述'; }
      return {kind: k, url: '/api/field/hazards', label: $('fd-enterprise').selectedOptions[0].textContent, form: form,
              body: {enterprise_id: Number($('fd-enterprise').value), level: $('fd-level').value,
                     description: value('fd-hazard-text'), found_on: today(), deadline: value('fd-deadline') || null,
                     position: pos}};
    }
    if (k === 'encroachment') {
      if (!pos) { return '新占压点须有位置：请定位或在地图上拖动标记'; }
      return {kind: k, url: '/api/field/encroachments', label: value('fd-enc-text') || '现场发现', form: form,
              body: {position: pos, pipeline: $('fd-pipeline').value || null, kind: $('fd-enc-kind').value,
                     nature: $('fd-nature').value || null, description: value('fd-enc-text') || null, found_on: today()}};
    }
    if (!$('fd-item').value) { return '请选择事项'; }
    if (!value('fd-note')) { return '请填写整改说明'; }
    var parts = $('fd-item').value.split(':');
    return {kind: 'progress', url: '/api/field/progress', label: parts[1] + ' ' + $('fd-progress').selectedOptions[0].textContent, form: form,
            body: {kind: parts[0], code: parts[1], status: $('fd-progress').value, note: value('fd-note')}};
  }

  function enqueue(item) {
    item.client_id = S.uuid();
    item.body.client_id = item.client_id;
    item.state = 'pending';
    item.created_at = new Date().toISOString();
    return S.add(item).then(renderQueue).then(replay);
  }

  $('fd-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var item = build();
    $('fd-form-error').textContent = typeof item === 'string' ? item : '';
    if (typeof item === 'string') { return; }
    item.photos = state.photos;
    var old = state.replacing;
    state.replacing = null;
    (old ? S.remove(old) : Promise.resolve()).then(function () { return enqueue(item); }).then(function () {
      state.photos = [];
      renderPhotos();
      ['fd-result', 'fd-finding', 'fd-hazard-text', 'fd-enc-text', 'fd-note', 'fd-deadline'].forEach(function (id) { $(id).value = ''; });
      show('queue');
    });
  });

  /* ---- queue ------------------------------------------------------------------------------------------------ */
  function renderQueue() {
    return S.all().then(function (items) {
      var ol = $('fd-queue');
      ol.textContent = '';
      var waiting = items.filter(function (i) { return i.state !== 'sent'; }).length;
      $('fd-queue-count').textContent = String(waiting);
      items.sort(function (a, b) { return b.seq - a.seq; }).slice(0, 50).forEach(function (i) {
        /* another login's record whose send was cut off when its session ended waits, it is not being sent */
        var shown = (!S.mine(i) && i.state === 'sending') ? 'pending' : i.state;
        var li = el('li', 'fd-card fd-item-' + shown);
        li.setAttribute('data-client-id', i.client_id);
        li.setAttribute('data-state', shown);
        var h = el('h3');
        h.appendChild(el('span', 'fd-state fd-state-' + shown, STATE_LABELS[shown] || shown));
        h.appendChild(document.createTextNode(' ' + (KIND_LABELS[i.kind] || i.kind) + ' · ' + i.label));
        li.appendChild(h);
        li.appendChild(el('p', null, '记录于 ' + local(i.created_at) + (i.photos && i.photos.length ? ' · 照片 ' + i.photos.length + ' 张' : '')));
        if (i.answer && i.answer.object_code) { li.appendChild(el('p', null, '编号 ' + i.answer.object_code)); }
        if (i.reason && i.state !== 'sent') { li.appendChild(el('p', i.state === 'refused' ? 'fd-error fd-reason' : 'fd-note', i.reason)); }
        if (!S.mine(i) && i.state !== 'sent') {
          li.setAttribute('data-owner', 'other');
          li.appendChild(el('p', 'fd-note', '这条记录由 ' + i.login + ' 在本机记录，须由其本人登录后发送'));
        }
        if (i.state === 'refused') {
          var act = el('div', 'fd-actions');
          var fix = el('button', 'fd-fix', '修改后重发');
          fix.type = 'button';
          fix.addEventListener('click', function () { edit(i); });
          var drop = el('button', 'fd-drop', '删除');
          drop.type = 'button';
          drop.addEventListener('click', function () { S.remove(i.seq).then(renderQueue); });
          act.appendChild(fix); act.appendChild(drop);
          li.appendChild(act);
        }
        ol.appendChild(li);
      });
    });
  }

  /* A refused record back in the form, to fix and send again (under a new client id). */
  function edit(item) {
    if (item.kind === 'stop') { return; }
    $('fd-kind').value = item.kind;
    kindChanged();
    Object.keys(item.form || {}).forEach(function (name) {
      var f = document.querySelector('#fd-form [name="' + name + '"]');
      if (f && name !== 'kind') { f.value = item.form[name]; }
    });
    if (item.body.position) { state.position = item.body.position; }
    state.photos = (item.photos || []).filter(function (p) { return p.blob; });
    state.replacing = item.seq;
    renderPhotos();
    show('record');
    showPosition();
    $('fd-form-error').textContent = '退回原因：' + item.reason;
  }

  function replay() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return S.replay(renderQueue).then(function () {
      document.body.setAttribute('data-replayed', String(Date.now()));
    });
  }
  $('fd-send').addEventListener('click', replay);

  /* ---- map ------------------------------------------------------------------------------------------------- */
  var REFERENCE = {tiles: '/tiles/reference/{z}/{x}/{y}.pbf', labels: '/tiles/reference/{z}/{x}/{y}.json', attribution: ''};
  function addLayers(map) {
    if (window.riskmap && riskmap.referenceBasemap && L.vectorGrid) { riskmap.referenceBasemap(map, REFERENCE).addTo(map); }
    var l = state.layers;
    if (!l) { return; }
    L.geoJSON(l.township, {style: {color: '#6a1b9a', weight: 2, fill: false, dashArray: '6 4'}}).addTo(map);
    L.geoJSON(l.pipeline, {style: {color: '#ad1457', weight: 3}}).bindTooltip(function (x) { return el('span', null, x.feature.properties.name); }).addTo(map);
    L.geoJSON(l.enterprise, {pointToLayer: function (f, ll) {
      return L.circleMarker(ll, {radius: 5, weight: 1, color: '#333', fillOpacity: 0.9,
                                 fillColor: COLOURS[f.properties.colour] || '#9e9e9e'});
    }}).bindTooltip(function (x) { return el('span', null, x.feature.properties.name); }).addTo(map);
    L.geoJSON(l.encroachment, {pointToLayer: function (f, ll) {
      return L.circleMarker(ll, {radius: 6, weight: 2, color: '#000', fillColor: '#ff5252', fillOpacity: 1});
    }}).bindTooltip(function (x) { return el('span', null, '占压点 ' + x.feature.properties.code); }).addTo(map);
  }

  var big = null;
  function drawMap() {
    if (big || !window.L) { return; }
    big = L.map('fd-map', {attributionControl: false});
    addLayers(big);
    var t = state.tasks, pts = [];
    (t && t.routes || []).forEach(function (r) { if (r.geometry) { L.geoJSON(r.geometry, {style: {color: '#1565c0', weight: 4}}).addTo(big); } });
    (t && t.stops_week || []).forEach(function (s) {
      if (s.lat == null) { return; }
      pts.push([s.lat, s.lon]);
      var n = el('div', 'fd-stop-pin', s.seq || '·');
      L.marker([s.lat, s.lon], {icon: L.divIcon({className: '', html: n, iconSize: [26, 26], iconAnchor: [13, 33]})})
        .bindTooltip(function () { return el('span', null, (s.seq || '') + '. ' + s.name); }).addTo(big);
    });
    if (pts.length) { big.fitBounds(pts, {padding: [30, 30], maxZoom: 15}); }
    else if (state.layers && state.layers.township.features.length) { big.fitBounds(L.geoJSON(state.layers.township).getBounds()); }
    else { big.setView([39.38, 111.15], 11); }
  }

  /* The reference tiles of the user's townships at the zooms a phone plans with, fetched once after the first sync
     so the service worker keeps them (closer zooms are kept as they are looked at online). */
  var PREFETCH_ZOOMS = [10, 11, 12, 13];
  function tileRange(bounds, z) {
    var n = Math.pow(2, z), x = function (lon) { return Math.floor((lon + 180) / 360 * n); };
    var y = function (lat) { var r = lat * Math.PI / 180; return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n); };
    return {x0: x(bounds.getWest()), x1: x(bounds.getEast()), y0: y(bounds.getNorth()), y1: y(bounds.getSouth())};
  }
  function prefetchReference() {
    var l = state.layers;
    if (!navigator.onLine || !l || !l.township.features.length || !('serviceWorker' in navigator)) { return Promise.resolve(0); }
    return S.load('prefetched').then(function (row) {
      if (row && row.value === l.township.features.length) { return 0; }
      var b = L.geoJSON(l.township).getBounds(), urls = [];
      PREFETCH_ZOOMS.forEach(function (z) {
        var r = tileRange(b, z);
        for (var x = r.x0; x <= r.x1; x++) {
          for (var y = r.y0; y <= r.y1; y++) {
            urls.push('/tiles/reference/' + z + '/' + x + '/' + y + '.pbf', '/tiles/reference/' + z + '/' + x + '/' + y + '.json');
          }
        }
      });
      var i = 0, done = 0;
      function worker() {
        if (i >= urls.length) { return Promise.resolve(); }
        var u = urls[i++];
        return fetch(u, {credentials: 'same-origin'}).then(function () { done++; }, function () {}).then(worker);
      }
      return Promise.all([worker(), worker(), worker(), worker()]).then(function () {
        return S.save('prefetched', l.township.features.length);
      }).then(function () { return done; });
    });
  }

  /* ---- start ------------------------------------------------------------------------------------------------- */
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/field/sw.js', {scope: '/field'}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () { document.body.setAttribute('data-sw', 'ready'); }).catch(function () {
      document.body.setAttribute('data-sw', 'failed');
    });
  }
  kindChanged();
  online();
  Promise.all([loadTasks(), fetchJson('/api/field/layers', 'layers').then(function (got) { state.layers = got && got.data; })])
    .then(function () {
      document.body.setAttribute('data-synced', state.tasks ? 'yes' : 'no');
      if (state.tasks) { fillSelects(state.tasks); }  // with the township's enterprises, now that the layers are in
      locate();
      return renderQueue();
    }).then(replay).then(function () {
      return navigator.serviceWorker ? navigator.serviceWorker.ready : null;
    }).then(prefetchReference).then(function (n) {
      document.body.setAttribute('data-offline-ready', String(n));
    });
  setInterval(replay, 30000);
})();
