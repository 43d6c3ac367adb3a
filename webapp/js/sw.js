/* The service worker (issue 13): the pages of the last 30 assets scanned and their forms are
   kept (network first, the copy when offline), the app's scripts too, so scanning a label seen
   before works without a network. An unseen label offline gets /offline, which keeps the scan. */
"use strict";
var PAGES = "houqin-pages-v1", SCRIPTS = "houqin-scripts-v1", MAX_ASSETS = 30;
var ASSET = /^\/s\/([^/]+)(\/record\/[^/]+)?$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(PAGES).then(function (cache) { return cache.addAll(["/offline", "/pending"]); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

/* Only the last MAX_ASSETS assets: the cache keeps insertion order, the newest last. */
function trim(cache) {
  return cache.keys().then(function (keys) {
    var tokens = [];
    keys.forEach(function (request) {
      var m = ASSET.exec(new URL(request.url).pathname);
      if (!m) return;
      var at = tokens.indexOf(m[1]);
      if (at >= 0) tokens.splice(at, 1);
      tokens.push(m[1]);
    });
    var old = tokens.slice(0, Math.max(0, tokens.length - MAX_ASSETS));
    return Promise.all(keys.filter(function (request) {
      var m = ASSET.exec(new URL(request.url).pathname);
      return m && old.indexOf(m[1]) >= 0;
    }).map(function (request) { return cache.delete(request); }));
  });
}

/* /pending and /offline again, as the person now logged in sees them: at most once a minute. */
var refreshed = 0;
function own(cache) {
  if (Date.now() - refreshed < 60000) return null;
  refreshed = Date.now();
  return cache.addAll(["/offline", "/pending"]);
}

/* A form from the cache gets a new submission key: two records filed from one copy are two. */
function fresh(response, isForm) {
  if (!isForm) return response;
  var key = "";
  for (var i = 0; i < 32; i++) key += "0123456789abcdef"[Math.floor(Math.random() * 16)];
  return response.text().then(function (html) {
    html = html.replace(/(name="submission_key" type="hidden" value=")[0-9a-f]*/, "$1" + key);
    return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

function page(request, m) {
  var url = new URL(request.url), key = url.origin + url.pathname;
  return fetch(request).then(function (response) {
    if (response.status === 200 && !response.redirected && response.type === "basic") {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) {
        return cache.delete(key).then(function () { return cache.put(key, copy); })
          .then(function () { return trim(cache); }).then(function () { return own(cache); });
      });
    }
    return response;
  }, function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(key).then(function (hit) {
        if (hit) return fresh(hit, m && !!m[2]);
        return cache.match(m && !m[2] ? "/offline" : key).then(function (other) {
          return other || Response.error();
        });
      });
    });
  });
}

function script(request) {
  return caches.open(SCRIPTS).then(function (cache) {
    return cache.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  var m = ASSET.exec(url.pathname);
  if (url.pathname.indexOf("/js/") === 0) event.respondWith(script(request));
  else if (m || url.pathname === "/pending") event.respondWith(page(request, m));
});
