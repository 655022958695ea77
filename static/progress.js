// Moves each running run's or step's progress on, once a second, from what the page was drawn
// with: no request. Optional: without JavaScript the pages that show progress refresh instead.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-progress]"));
  if (!items.length) return;
  var loaded = Date.now();

  // As runs/durations.py writes amounts: `42 s`, `7 min`, `3 h`, halves rounded up.
  function amount(seconds) {
    seconds = Math.max(Math.floor(seconds + 0.5), 0);
    if (seconds < 120) return seconds + " s";
    if (seconds < 7200) return Math.floor(seconds / 60 + 0.5) + " min";
    return Math.floor(seconds / 3600 + 0.5) + " h";
  }

  function tick() {
    var passed = (Date.now() - loaded) / 1000;
    items.forEach(function (item) {
      var elapsed = Number(item.getAttribute("data-elapsed")) + passed;
      var text = amount(elapsed) + " elapsed";
      var usual = item.getAttribute("data-expected");
      if (usual) {
        var expected = Number(usual);
        var bar = item.parentNode.querySelector("progress");
        if (bar) bar.value = Math.min(elapsed, expected);
        text += elapsed > expected ? ", over the usual time by " + amount(elapsed - expected)
          : ", about " + amount(Math.max(expected - elapsed, 1)) + " left";
      }
      item.textContent = text;
    });
  }

  setInterval(tick, 1000);
})();
