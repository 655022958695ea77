// Live run log: appends only the new bytes of each step's log (by offset) until the run ends.
// Optional: without JavaScript the page refreshes itself instead (see <noscript> in its head).
(function () {
  "use strict";
  var FINAL = ["succeeded", "failed", "aborted", "exception", "cancelled", "skipped"];
  var CHUNK = 65536;
  var logs = Array.prototype.slice.call(document.querySelectorAll("pre[data-log]"));
  var statuses = Array.prototype.slice.call(document.querySelectorAll("[data-run-status]"));
  if (!logs.length || !window.fetch || !window.TextDecoder) return;
  var decoders = logs.map(function () { return new TextDecoder("utf-8"); });

  function read(pre, index) {
    var offset = Number(pre.getAttribute("data-offset")) || 0;
    var url = pre.getAttribute("data-log") + "?offset=" + offset + "&limit=" + CHUNK;
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (!response.ok) throw new Error("log answered " + response.status);
      var status = response.headers.get("X-Run-Status");
      var size = Number(response.headers.get("X-Log-Size"));
      return response.arrayBuffer().then(function (buffer) {
        if (buffer.byteLength) {
          var atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
          pre.setAttribute("data-offset", offset + buffer.byteLength);
          pre.appendChild(document.createTextNode(decoders[index].decode(buffer, { stream: true })));
          if (atBottom) window.scrollTo(0, document.body.scrollHeight);
        }
        return { status: status, more: offset + buffer.byteLength < size };
      });
    });
  }

  function showStatus(status) {
    statuses.forEach(function (element) {
      element.textContent = status;
      element.className = "status-" + status;
    });
  }

  function poll() {
    Promise.all(logs.map(read)).then(function (answers) {
      var status = answers[0].status;
      var more = answers.some(function (answer) { return answer.more; });
      if (status) showStatus(status);
      if (FINAL.indexOf(status) < 0 || more) {
        setTimeout(poll, more ? 200 : 1000);
      } else if (document.querySelector("[data-reload-when-done]")) {
        window.location.reload();
      }
    }, function () { setTimeout(poll, 5000); });
  }

  setTimeout(poll, 500);
})();
