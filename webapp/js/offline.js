/* Records that survive going offline (issue 13), on every page: the header's 等待发送（N）
   from what this phone keeps in IndexedDB for the person logged in, a scan kept when the
   service worker had no page for its label, and /sw.js registered. The sending itself is
   js/queue.js, on the form and /pending and loaded here when something waits. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.indexedDB || !window.fetch || !window.Promise) return;
  var text = script.dataset, opened = null, hooks = [];
  function db() {
    opened = opened || new Promise(function (resolve, reject) {
      var request = indexedDB.open("houqin", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("records", { keyPath: "id", autoIncrement: true });
        request.result.createObjectStore("scans", { keyPath: "token" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return opened;
  }

  function store(name, mode, work) { // work(objectStore) -> request or nothing
    return db().then(function (base) {
      return new Promise(function (resolve, reject) {
        var tx = base.transaction(name, mode), request = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(request && request.result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function all(name) { return store(name, "readonly", function (s) { return s.getAll(); }); }
  function put(name, item) { return store(name, "readwrite", function (s) { return s.put(item); }); }
  function drop(name, key) { return store(name, "readwrite", function (s) { s.delete(key); }); }

  /* A shared phone: only the person who filed a record sees it, and it goes only with them. */
  function mine(record) { return !!text.person && record.person === text.person; }

  /* Logging out forgets the pages the service worker kept for this person. */
  function forget(event) {
    var form = event.target;
    if (!form.hasAttribute("data-forget") || !window.caches || form.forgotten) return;
    event.preventDefault();
    form.forgotten = true;
    caches.open("houqin-pages-v1").then(function (cache) {
      return cache.keys().then(function (keys) {
        return Promise.all(keys.filter(function (k) { return /\/s\/|\/pending$/.test(k.url); })
          .map(function (k) { return cache.delete(k); }));
      });
    }).catch(function () { return null; }).then(function () { form.submit(); });
  }

  function show() {
    return Promise.all([all("records"), all("scans")]).then(function (found) {
      found[0] = found[0].filter(mine);
      var count = found[0].length + found[1].length, badge = document.getElementById("pending-link");
      if (badge) {
        badge.hidden = !count;
        badge.textContent = text.pending.replace("{n}", count);
      }
      hooks.forEach(function (hook) { hook(found); });
      var waiting = found[0].some(function (r) { return r.state === "pending"; });
      if (waiting && !window.houqinQueue && !show.loading && text.queue) {
        show.loading = document.body.appendChild(document.createElement("script"));
        show.loading.src = text.queue;
      }
      return found;
    });
  }

  window.houqinStore = {
    all: all, put: put, drop: drop, mine: mine, show: show, text: text, hooks: hooks
  };
  var here = /^\/s\/([^/]+)$/.exec(location.pathname);
  if (document.querySelector("[data-offline-scan]") && here) {
    put("scans", { token: here[1], time: new Date().toISOString() }).then(show);
  } else if (here) drop("scans", here[1]);
  document.addEventListener("submit", forget);
  window.addEventListener("online", function () { show(); });
  if (navigator.serviceWorker && text.sw) navigator.serviceWorker.register(text.sw, { scope: "/" });
  show().catch(function () { return null; });
})();
