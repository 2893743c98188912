// Live counts on the queue: ask the server every data-refresh milliseconds
// (15 s by default) and update the figures in place. Without JavaScript the
// page shows them as of loading.
(function () {
  "use strict";
  var box = document.getElementById("counts");
  if (!box || !window.fetch) { return; }
  function refresh() {
    fetch("/counts", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (!c) { return; }
        // Touch the page only when a figure changed: a rewrite of the same
        // text still replaces its node, which screen readers and tools
        // watching the page see as a change.
        ["open", "overdue", "handled"].forEach(function (k) {
          var v = String(c[k]);
          var el = box.querySelector('[data-count="' + k + '"]');
          if (el && el.textContent !== v) { el.textContent = v; }
          if (box.getAttribute("data-" + k) !== v) { box.setAttribute("data-" + k, v); }
        });
      })
      .catch(function () {});
  }
  var every = parseInt(box.getAttribute("data-refresh"), 10);
  setInterval(refresh, every > 0 ? every : 15000);
})();
