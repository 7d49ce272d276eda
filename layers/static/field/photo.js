/* A camera photo made small on the phone: drawn on a canvas at most 1600 px on its long side, stamped in its
   lower-left corner with the time and position (as the bureau platforms do), and encoded as JPEG. */
(function () {
  'use strict';

  var MAX_SIDE = 1600, QUALITY = 0.8;

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function stamp(now) {
    return now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate()) + ' ' +
      pad(now.getHours()) + ':' + pad(now.getMinutes()) + ':' + pad(now.getSeconds());
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

  /* file → Promise<Blob> (image/jpeg). position: {lon, lat, accuracy_m} or null. */
  function compress(file, position, now) {
    now = now || new Date();
    return decode(file).then(function (img) {
      var w = img.width, h = img.height, k = Math.min(1, MAX_SIDE / Math.max(w, h));
      var canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(w * k));
      canvas.height = Math.max(1, Math.round(h * k));
      var ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      var lines = [stamp(now)];
      if (position) {
        lines.push('经度 ' + position.lon.toFixed(6) + '  纬度 ' + position.lat.toFixed(6) +
                   (position.accuracy_m != null ? '  精度 ' + Math.round(position.accuracy_m) + ' 米' : ''));
      }
      var size = Math.max(14, Math.round(canvas.width / 40));
      ctx.font = size + 'px sans-serif';
      var boxH = lines.length * size * 1.3 + size * 0.6;
      var boxW = Math.max.apply(null, lines.map(function (l) { return ctx.measureText(l).width; })) + size;
      ctx.fillStyle = 'rgba(0,0,0,0.55)';
      ctx.fillRect(0, canvas.height - boxH, Math.min(boxW, canvas.width), boxH);
      ctx.fillStyle = '#ffffff';
      lines.forEach(function (l, i) { ctx.fillText(l, size / 2, canvas.height - boxH + size * 1.3 * (i + 1)); });
      return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', QUALITY); });
    });
  }

  window.FieldPhoto = {compress: compress, MAX_SIDE: MAX_SIDE};
})();
