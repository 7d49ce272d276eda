/* The phone's own store (IndexedDB 'riskmap-field'): the queue of records not yet answered, and the last tasks and
   layers fetched (for use without signal). Records are replayed in the order they were made, each with the client
   id it was given when made, so a record sent twice is stored once by the server (geo/field/submit.py). */
(function () {
  'use strict';

  var DB = 'riskmap-field', VERSION = 1;
  var opening = null;

  function open() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB, VERSION);
        req.onupgradeneeded = function () {
          var db = req.result;
          if (!db.objectStoreNames.contains('queue')) { db.createObjectStore('queue', {keyPath: 'seq', autoIncrement: true}); }
          if (!db.objectStoreNames.contains('cache')) { db.createObjectStore('cache', {keyPath: 'key'}); }
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return opening;
  }

  function run(store, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode), out;
        var req = work(tx.objectStore(store));
        if (req) { req.onsuccess = function () { out = req.result; }; }
        tx.oncomplete = function () { resolve(out); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /* The signed-in login this page was served for: a record is stamped with the login that made it and is sent only
     while that login is signed in (on a shared phone another user's records never go out under the wrong name), and
     the cached tasks and layers are kept per login. */
  var bar = document.querySelector('[data-login]');
  var LOGIN = bar ? bar.getAttribute('data-login') : '';

  var Store = {
    uuid: uuid,
    login: LOGIN,
    mine: function (item) { return !item.login || item.login === LOGIN; },
    add: function (item) {
      item.login = LOGIN;
      return run('queue', 'readwrite', function (s) { return s.add(item); });
    },
    put: function (item) { return run('queue', 'readwrite', function (s) { return s.put(item); }); },
    remove: function (seq) { return run('queue', 'readwrite', function (s) { return s.delete(seq); }); },
    all: function () { return run('queue', 'readonly', function (s) { return s.getAll(); }); },
    save: function (key, value) {
      return run('cache', 'readwrite', function (s) {
        return s.put({key: LOGIN + '\u0000' + key, value: value, at: new Date().toISOString()});
      });
    },
    load: function (key) { return run('cache', 'readonly', function (s) { return s.get(LOGIN + '\u0000' + key); }); }
  };


  var sending = false;

  /* One photo of a stored record: POST /api/attachments (multipart), its own client id → stored once. */
  function uploadPhoto(item, photo) {
    var form = new FormData();
    form.append('owner_kind', item.answer.object_kind);  /* inspection, hazard, encroachment (progress: its object) */
    form.append('owner_id', String(item.answer.object_id));
    form.append('client_id', photo.client_id);
    form.append('file', photo.blob, photo.name);
    return fetch('/api/attachments', {method: 'POST', body: form, credentials: 'same-origin',
                                      headers: {'X-CSRF-Token': window.riskmap.csrfToken()}});
  }

  function refuse(item, body, status) {
    item.state = 'refused';
    item.status = status;
    item.reason = (body && body.message) || ('服务器拒绝（HTTP ' + status + '）');
    return Store.put(item);
  }

  /* Send one record, then its photos. Resolves true to go on with the next, false to stop (no signal, server
     busy, signed out): the record stays 待发送 and is tried again in its turn. */
  function sendOne(item, notify) {
    item.state = 'sending';
    return Store.put(item).then(notify).then(function () {
      if (item.answer) { return null; }
      return fetch(item.url, {method: 'POST', credentials: 'same-origin', body: JSON.stringify(item.body),
                              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': window.riskmap.csrfToken()}});
    }).then(function (r) {
      if (r === null) { return true; }
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 200 || r.status === 201) { item.answer = body; return Store.put(item).then(function () { return true; }); }
        if (r.status === 401 || r.status === 429 || r.status >= 500) {
          item.state = 'pending';
          item.reason = r.status === 401 ? '登录已过期：请重新登录后发送' : '服务器忙，稍后自动重试';
          return Store.put(item).then(function () { return false; });
        }
        return refuse(item, body, r.status).then(function () { return 'refused'; });
      });
    }).then(function (go) {
      if (go !== true) { return go !== false; }
      var photos = (item.photos || []).filter(function (p) { return !p.sent; });
      var chain = Promise.resolve(true);
      photos.forEach(function (p) {
        chain = chain.then(function (ok) {
          if (!ok) { return false; }
          return uploadPhoto(item, p).then(function (r) {
            if (r.status === 200 || r.status === 201) {
              return r.json().then(function (meta) { p.sent = true; p.attachment_id = meta.id; p.blob = null; return Store.put(item); })
                .then(function () { return true; });
            }
            if (r.status === 401 || r.status === 429 || r.status >= 500) { return false; }
            return r.json().catch(function () { return {}; }).then(function (body) {
              item.reason = '照片 ' + p.name + ' 未能保存：' + ((body && body.message) || ('HTTP ' + r.status));
              p.sent = true; p.refused = item.reason;
              return Store.put(item).then(function () { return true; });
            });
          });
        });
      });
      return chain.then(function (ok) {
        if (!ok) { item.state = 'pending'; return Store.put(item).then(function () { return false; }); }
        item.state = 'sent';
        item.sent_at = new Date().toISOString();
        return Store.put(item).then(function () { return true; });
      });
    }).catch(function () {
      item.state = 'pending';
      item.reason = '无信号，恢复联网后自动发送';
      return Store.put(item).then(function () { return false; });
    });
  }

  /* Replay the queue in order: every 待发送 record, oldest first; stop at the first that cannot be sent now. */
  function replay(notify) {
    if (sending) { return Promise.resolve(); }
    sending = true;
    notify = notify || function () {};
    return Store.all().then(function (items) {
      var todo = items.filter(function (i) { return (i.state === 'pending' || i.state === 'sending') && Store.mine(i); })
        .sort(function (a, b) { return a.seq - b.seq; });
      var chain = Promise.resolve(true);
      todo.forEach(function (item) {
        chain = chain.then(function (go) { return go ? sendOne(item, notify).then(function (r) { notify(); return r; }) : false; });
      });
      return chain;
    }).finally(function () { sending = false; notify(); });
  }

  Store.replay = replay;
  window.FieldStore = Store;
})();
