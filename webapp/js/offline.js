/* Records that survive going offline (issue 13). A checklist whose send failed for the network
   is kept on the phone (IndexedDB: its fields, scaled photos, page and time) and sent by itself
   on load, when the phone is back online and every 30 s while any waits; the header shows
   等待发送（N） and /pending lists them. Also registers /sw.js. Without IndexedDB: nothing kept. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.indexedDB || !window.fetch || !window.Promise) return;
  var text = script.dataset, opened = null, sending = false;

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

  /* Keep a record the network did not take: the FormData as sent (photos already scaled). */
  function keep(form, data) {
    var fields = [];
    data.forEach(function (value, name) {
      fields.push([name, value, value instanceof File ? value.name : null]);
    });
    return put("records", {
      url: form.action, page: location.pathname, fields: fields, state: "pending",
      person: text.person, asset: form.dataset.asset || "", title: form.dataset.title || document.title,
      time: data.get("phone_time") || new Date().toISOString()
    }).then(function () { show(); return text.saved; });
  }

  function body(record, token) {
    var data = new FormData();
    record.fields.forEach(function (f) {
      var value = f[0] === "csrf_token" && token ? token : f[1];
      if (f[2] !== null) data.append(f[0], value, f[2]); else data.append(f[0], value);
    });
    return data;
  }

  function parse(html) { return new DOMParser().parseFromString(html, "text/html"); }

  function freshToken(page) { // the form page again, for a CSRF token that has not expired
    return fetch(page, { credentials: "same-origin" }).then(function (r) { return r.text(); })
      .then(function (html) {
        var input = parse(html).querySelector("input[name=csrf_token]");
        return input ? input.value : null;
      });
  }

  /* Send one record; resolves once the server answered, rejects on a network failure. */
  function deliver(record, token) {
    return fetch(record.url, { method: "POST", body: body(record, token), credentials: "same-origin" })
      .then(function (response) {
        var expired = response.status === 400 || /[?&]draft=/.test(response.url);
        if (expired && !token) {
          return freshToken(record.page).then(function (fresh) {
            return fresh ? deliver(record, fresh) : response.text().then(failed(record, response));
          });
        }
        if (response.ok && /\/records\/\d+/.test(response.url)) return drop("records", record.id);
        if (response.status >= 500) return null; // the server's trouble: try again later
        return response.text().then(failed(record, response));
      });
  }

  function failed(record, response) {
    return function (html) {
      var page = parse(html), node = page.querySelector(".alert") || page.querySelector("main p");
      record.state = "failed";
      record.message = node ? node.textContent.trim() : String(response.status);
      if (response.ok) record.page = response.url; // a login or a kept draft: open it there
      return put("records", record);
    };
  }

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

  function flush() {
    if (sending || navigator.onLine === false) return Promise.resolve();
    sending = true;
    return all("records").then(function (records) {
      return records.filter(function (r) { return r.state === "pending" && mine(r); })
        .reduce(function (chain, r) {
          return chain.then(function () { return deliver(r); });
        }, Promise.resolve());
    }).catch(function () { return null; }).then(function () { sending = false; show(); });
  }

  function when(iso) {
    var d = new Date(iso), two = function (n) { return (n < 10 ? "0" : "") + n; };
    return isNaN(d) ? iso : two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function el(tag, text, props) {
    var node = document.createElement(tag);
    node.textContent = text || "";
    for (var k in props || {}) node[k] = props[k];
    return node;
  }

  /* /pending: each kept record and each scan made offline, with 打开 and 放弃. */
  function listPending(box, records, scans) {
    var list = box.querySelector("ul"), t = box.dataset;
    list.textContent = "";
    function add(nodes) {
      var li = el("li");
      nodes.forEach(function (node) { li.append(node, " "); });
      list.appendChild(li);
    }
    records.forEach(function (r) {
      var state = r.state === "failed" ? t.failed.replace("{reason}", r.message) : t.waiting;
      add([el("strong", r.asset), "· " + r.title, el("br"),
        el("span", when(r.time) + " · " + state, { className: "muted" }), el("br"),
        el("a", t.open, { href: r.page + "#pending=" + r.id }),
        el("button", t.discard, { className: "linkbtn", type: "button",
          onclick: function () { drop("records", r.id).then(show); } })]);
    });
    scans.forEach(function (s) {
      add([el("a", t.scanned.replace("{time}", when(s.time).slice(6)), { href: "/s/" + s.token })]);
    });
    box.querySelector(".none").hidden = records.length + scans.length > 0;
  }

  /* Opened from /pending: the same form, filled in again from what was kept. */
  function refill(form, record) {
    record.fields.forEach(function (f) {
      var inputs = form.querySelectorAll("[name='" + f[0].replace(/'/g, "") + "']");
      Array.prototype.forEach.call(inputs, function (input) {
        if (input.type === "file") {
          if (!window.DataTransfer) return;
          var files = new DataTransfer();
          Array.prototype.forEach.call(input.files, function (x) { files.items.add(x); });
          files.items.add(f[1]);
          input.files = files.files;
        } else if (input.type === "radio" || input.type === "checkbox") {
          if (input.value === f[1]) input.checked = true;
        } else if (input.name !== "csrf_token") input.value = f[1];
      });
    });
    form.addEventListener("submit", function () { drop("records", record.id); }, true);
  }

  function show() {
    return Promise.all([all("records"), all("scans")]).then(function (found) {
      found[0] = found[0].filter(mine);
      var count = found[0].length + found[1].length, badge = document.getElementById("pending-link");
      if (badge) {
        badge.hidden = !count;
        badge.textContent = text.pending.replace("{n}", count);
      }
      var box = document.getElementById("pending");
      if (box) listPending(box, found[0], found[1]);
      var waiting = found[0].some(function (r) { return r.state === "pending"; });
      if (waiting && !show.timer) show.timer = setInterval(flush, 30000);
      if (!waiting && show.timer) show.timer = clearInterval(show.timer);
      return found;
    });
  }

  window.houqinOffline = { keep: keep };
  var here = /^\/s\/([^/]+)$/.exec(location.pathname);
  if (document.querySelector("[data-offline-scan]") && here) {
    put("scans", { token: here[1], time: new Date().toISOString() }).then(show);
  } else if (here) drop("scans", here[1]);
  var wanted = /^#pending=(\d+)$/.exec(location.hash), form = document.querySelector("form[data-photos]");
  show().then(function (found) {
    var record = wanted && form && found[0].filter(function (r) { return r.id === +wanted[1]; })[0];
    if (record) refill(form, record);
    return flush();
  }).catch(function () { return null; });
  window.addEventListener("online", flush);
  document.addEventListener("submit", forget);
  if (navigator.serviceWorker && text.sw) navigator.serviceWorker.register(text.sw, { scope: "/" });
})();
