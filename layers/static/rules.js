/* Rules page (/risk/rules): long tables (GB 18218 表1 …) start folded on screen and print unfolded. */
(function () {
  'use strict';
  var folded = [];
  window.addEventListener('beforeprint', function () {
    folded = Array.prototype.filter.call(document.querySelectorAll('.rm-rules details'), function (d) { return !d.open; });
    folded.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () {
    folded.forEach(function (d) { d.open = false; });
    folded = [];
  });
}());
