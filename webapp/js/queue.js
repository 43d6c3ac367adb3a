/* Sends the records js/offline.js keeps (issue 13): a checklist whose send failed for the
   network is kept (its fields, scaled photos, page and phone time) and sent by itself on load,
   when back online and every 30 s while any waits; one with an expired CSRF token goes once
   more with a fresh one; one the server refuses stays 发送失败 with its reason, to open. */
(function () {
  "use strict";
  var store = window.houqinStore;
  if (!store || window.houqinQueue) return;
  var all = store.all, put = store.put, drop = store.drop, mine = store.mine, show = store.show;
  var text = store.text, sending = false, timer = null;

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

  store.hooks.push(function (found) {
    var box = document.getElementById("pending");
    if (box) listPending(box, found[0], found[1]);
    var waiting = found[0].some(function (r) { return r.state === "pending"; });
    if (waiting && !timer) timer = setInterval(flush, 30000);
    if (!waiting && timer) timer = clearInterval(timer);
  });
  window.houqinQueue = window.houqinOffline = { keep: keep };
  var wanted = /^#pending=(\d+)$/.exec(location.hash), form = document.querySelector("form[data-offline]");
  show().then(function (found) {
    var record = wanted && form && found[0].filter(function (r) { return r.id === +wanted[1]; })[0];
    if (record) refill(form, record);
    return flush();
  }).catch(function () { return null; });
  window.addEventListener("online", flush);
})();
