/* A camera photo made small on the phone: drawn on a canvas at most 1600 px on its long side, stamped in its
   lower-left corner with the time and position (as the bureau platforms do), encoded as JPEG, and given EXIF
   DateTimeOriginal and GPS tags (piexifjs) — the original photo's own, when it has them, else the phone's clock
   and position fix — so the server keeps the time and place of the photo (a canvas drops the original's EXIF). */
(function () {
  'use strict';

  var MAX_SIDE = 1600, QUALITY = 0.8;

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function stamp(now) {
    return now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate()) + ' ' +
      pad(now.getHours()) + ':' + pad(now.getMinutes()) + ':' + pad(now.getSeconds());
  }

  /* EXIF's own format: local time (the phone's, 北京时间 in the field), "YYYY:MM:DD HH:MM:SS". */
  function exifTime(now) { return stamp(now).replace(/-/g, ':'); }

  function fromExifTime(text) {
    var m = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(text || '');
    return m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : null;
  }

  function dms(value) {
    var v = Math.abs(value), d = Math.floor(v), mf = (v - d) * 60, m = Math.floor(mf);
    return [[d, 1], [m, 1], [Math.round((mf - m) * 60 * 1000), 1000]];
  }

  function decimal(parts, ref) {
    if (!parts || parts.length !== 3) { return null; }
    var v = parts[0][0] / parts[0][1] + parts[1][0] / parts[1][1] / 60 + parts[2][0] / parts[2][1] / 3600;
    return (ref === 'S' || ref === 'W') ? -v : v;
  }

  function gpsTags(position) {
    var G = window.piexif.GPSIFD, tags = {};
    tags[G.GPSVersionID] = [2, 3, 0, 0];
    tags[G.GPSLatitudeRef] = position.lat >= 0 ? 'N' : 'S';
    tags[G.GPSLatitude] = dms(position.lat);
    tags[G.GPSLongitudeRef] = position.lon >= 0 ? 'E' : 'W';
    tags[G.GPSLongitude] = dms(position.lon);
    tags[G.GPSMapDatum] = 'WGS-84';
    if (position.accuracy_m != null && G.GPSHPositioningError) {
      tags[G.GPSHPositioningError] = [Math.round(position.accuracy_m * 100), 100];
    }
    return tags;
  }

  function dataUrl(blob) {
    return new Promise(function (resolve, reject) {
      var r = new FileReader();
      r.onload = function () { resolve(r.result); };
      r.onerror = reject;
      r.readAsDataURL(blob);
    });
  }

  /* The original photo's EXIF time and position, when it is a JPEG that has them: {time: Date|null, position}. */
  function originalExif(file) {
    if (!window.piexif || !/jpe?g$/i.test(file.type || '')) { return Promise.resolve({}); }
    return dataUrl(file).then(function (url) {
      var exif = window.piexif.load(url), G = window.piexif.GPSIFD, gps = exif.GPS || {};
      var lat = decimal(gps[G.GPSLatitude], gps[G.GPSLatitudeRef]);
      var lon = decimal(gps[G.GPSLongitude], gps[G.GPSLongitudeRef]);
      return {time: fromExifTime((exif.Exif || {})[window.piexif.ExifIFD.DateTimeOriginal]),
              position: (lat != null && lon != null) ? {lon: lon, lat: lat, accuracy_m: null} : null};
    }).catch(function () { return {}; });
  }

  function toBlob(url) {
    var bytes = atob(url.split(',')[1]), out = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) { out[i] = bytes.charCodeAt(i); }
    return new Blob([out], {type: 'image/jpeg'});
  }

  function withExif(canvas, when, position) {
    var url = canvas.toDataURL('image/jpeg', QUALITY);
    if (!window.piexif) { return toBlob(url); }
    var exif = {'0th': {}, 'Exif': {}, 'GPS': {}};
    exif['0th'][window.piexif.ImageIFD.Software] = 'riskmap field';
    exif.Exif[window.piexif.ExifIFD.DateTimeOriginal] = exifTime(when);
    if (position) { exif.GPS = gpsTags(position); }
    return toBlob(window.piexif.insert(window.piexif.dump(exif), url));
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, {imageOrientation: 'from-image'}).catch(function () { return createImageBitmap(file); });
    }
    return new Promise(function (resolve, reject) {
      var img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = reject;
      img.src = URL.createObjectURL(file);
    });
  }

  /* file → Promise<Blob> (image/jpeg with EXIF time and GPS). position: the phone's {lon, lat, accuracy_m} or null. */
  function compress(file, position, now) {
    now = now || new Date();
    return Promise.all([decode(file), originalExif(file)]).then(function (got) {
      var img = got[0], original = got[1];
      var when = original.time || now, where = original.position || position;
      var w = img.width, h = img.height, k = Math.min(1, MAX_SIDE / Math.max(w, h));
      var canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(w * k));
      canvas.height = Math.max(1, Math.round(h * k));
      var ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      var lines = [stamp(when)];
      if (where) {
        lines.push('经度 ' + where.lon.toFixed(6) + '  纬度 ' + where.lat.toFixed(6) +
                   (where.accuracy_m != null ? '  精度 ' + Math.round(where.accuracy_m) + ' 米' : ''));
      }
      var size = Math.max(14, Math.round(canvas.width / 40));
      ctx.font = size + 'px sans-serif';
      var boxH = lines.length * size * 1.3 + size * 0.6;
      var boxW = Math.max.apply(null, lines.map(function (l) { return ctx.measureText(l).width; })) + size;
      ctx.fillStyle = 'rgba(0,0,0,0.55)';
      ctx.fillRect(0, canvas.height - boxH, Math.min(boxW, canvas.width), boxH);
      ctx.fillStyle = '#ffffff';
      lines.forEach(function (l, i) { ctx.fillText(l, size / 2, canvas.height - boxH + size * 1.3 * (i + 1)); });
      return withExif(canvas, when, where);
    });
  }

  window.FieldPhoto = {compress: compress, MAX_SIDE: MAX_SIDE};
})();
