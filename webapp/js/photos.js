/* Photos sized on the phone (issue 13). A form with data-photos is sent by this script:
   each chosen photo is scaled to what the server keeps (long side 1600 px, JPEG 0.8, upright),
   its EXIF DateTimeOriginal goes beside it as <input name>__taken_at, and the person sees
   progress; the submit button works once. Anything missing (canvas, XHR upload, a photo
   that will not decode): the original goes as it was, and the server scales it. */
(function () {
  "use strict";
  var script = document.currentScript;
  var LONG_SIDE = 1600, QUALITY = 0.8, SUFFIX = "__taken_at";
  if (!script || !window.FormData || !window.XMLHttpRequest || !window.Blob ||
      !("noModule" in script)) return; // older browsers keep the plain form
  var text = script.dataset;

  function uint16(view, at, little) { return view.getUint16(at, little); }

  /* DateTimeOriginal (0x9003) and OffsetTimeOriginal (0x9011) from the JPEG's APP1 segment. */
  function exifTaken(buffer) {
    var view = new DataView(buffer), at = 2;
    if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return null;
    while (at + 4 <= view.byteLength) {
      var marker = view.getUint16(at), size = view.getUint16(at + 2);
      if (marker === 0xffe1 && view.getUint32(at + 4) === 0x45786966) { // "Exif"
        return readTiff(view, at + 10);
      }
      if ((marker & 0xff00) !== 0xff00 || marker === 0xffda) return null;
      at += 2 + size;
    }
    return null;
  }

  function readTiff(view, tiff) {
    var little = view.getUint16(tiff) === 0x4949;
    function ifd(offset, wanted) {
      var found = {}, start = tiff + offset, count = uint16(view, start, little);
      for (var i = 0; i < count; i++) {
        var entry = start + 2 + i * 12, tag = uint16(view, entry, little);
        if (wanted.indexOf(tag) >= 0) {
          var type = uint16(view, entry + 2, little), n = view.getUint32(entry + 4, little);
          var value = entry + 8;
          if (type === 4) { found[tag] = view.getUint32(value, little); continue; }
          if (type !== 2) continue;
          if (n > 4) value = tiff + view.getUint32(value, little);
          var s = "";
          for (var k = 0; k < n - 1; k++) s += String.fromCharCode(view.getUint8(value + k));
          found[tag] = s;
        }
      }
      return found;
    }
    var first = ifd(view.getUint32(tiff + 4, little), [0x8769]);
    if (!first[0x8769]) return null;
    var exif = ifd(first[0x8769], [0x9003, 0x9011]);
    var m = /^(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)/.exec(exif[0x9003] || "");
    if (!m) return null;
    var offset = /^[+-]\d\d:\d\d$/.test(exif[0x9011] || "") ? exif[0x9011] : null;
    if (offset) return m[1] + "-" + m[2] + "-" + m[3] + "T" + m[4] + ":" + m[5] + ":" + m[6] + offset;
    // No offset written: the camera's local time is the phone's.
    var local = new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    return isNaN(local.getTime()) ? null : local.toISOString();
  }

  function readTaken(file) {
    if (!file.slice || !file.arrayBuffer) return Promise.resolve(null);
    return file.slice(0, 256 * 1024).arrayBuffer().then(exifTaken, function () { return null; })
      .catch(function () { return null; });
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return decodeImg(file);
      });
    }
    return decodeImg(file);
  }

  function decodeImg(file) { // <img> turns a photo upright by its EXIF orientation by default
    return new Promise(function (resolve, reject) {
      var img = new Image(), url = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }

  /* The photo at most 1600 px on its long side as a JPEG, or the original if that fails. */
  function scale(file) {
    if (!/^image\//.test(file.type || "image/")) return Promise.resolve(file);
    return decode(file).then(function (image) {
      var w = image.width, h = image.height, ratio = Math.min(1, LONG_SIDE / Math.max(w, h));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
      var context = canvas.getContext("2d");
      if (!context || !canvas.toBlob) return file;
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) image.close();
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          resolve(blob && blob.size ? new File([blob], "photo.jpg", { type: "image/jpeg" }) : file);
        }, "image/jpeg", QUALITY);
      });
    }).catch(function () { return file; });
  }

  function status(form, message) {
    var line = form.querySelector(".photo-status");
    if (!line) {
      line = document.createElement("p");
      line.className = "hint photo-status";
      line.setAttribute("aria-live", "polite");
      var button = form.querySelector("button[type=submit]:not(.first)");
      form.insertBefore(line, button || null);
    }
    line.textContent = message;
  }

  function buttons(form, disabled) {
    var all = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < all.length; i++) all[i].disabled = disabled;
  }

  function show(xhr) { // the answer, whether a record page or the form with its messages
    if (xhr.responseURL) history.replaceState(null, "", xhr.responseURL);
    document.open();
    document.write(xhr.responseText);
    document.close();
  }

  function send(form, data) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        status(form, text.uploading.replace("{p}", Math.round(e.loaded * 100 / e.total) + "%"));
      }
    };
    xhr.onload = function () { show(xhr); };
    xhr.onerror = xhr.ontimeout = function () { offline(form, data); };
    if (navigator.onLine === false) offline(form, data); else xhr.send(data);
  }

  /* No network: kept on the phone and sent later (js/offline.js), or tap Submit again. */
  function offline(form, data) {
    var queue = form.hasAttribute("data-offline") && window.houqinOffline;
    var kept = queue ? queue.keep(form, data) : Promise.reject(new Error("not kept"));
    kept.then(function (message) { status(form, message); }, function () {
      form.busy = false;
      buttons(form, false);
      status(form, text.failed);
    });
  }

  function submit(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    var inputs = form.querySelectorAll("input[type=file]"), work = [];
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i], files = Array.prototype.slice.call(input.files || []);
      if (!files.length) continue;
      data.delete(input.name);
      data.delete(input.name + SUFFIX);
      work.push(Promise.all(files.map(function (file) {
        return Promise.all([scale(file), readTaken(file)]);
      })).then(function (name) {
        return function (prepared) {
          prepared.forEach(function (pair) {
            data.append(name, pair[0], pair[0].name || "photo.jpg");
            data.append(name + SUFFIX, pair[1] || "");
          });
        };
      }(input.name)));
    }
    if (work.length) status(form, text.preparing);
    Promise.all(work).then(function () { send(form, data); }, function () { form.submit(); });
  }

  /* The phone's time at the first tap on submit, kept through a retry or a kept draft: the
     record shows it beside the server's time when the two differ. */
  function stamp(form) {
    var field = form.querySelector("input[name=phone_time]");
    if (field && !field.value) field.value = new Date().toISOString();
  }

  /* Where the phone is, when the person allows it: asked once, at the first submit, into the
     hidden lat, lon and accuracy_m fields. Never holds the record back: refused, unavailable
     or slower than three seconds (a permission prompt left open too), it is sent without. */
  function locate(form) {
    var lat = form.querySelector("input[name=lat]");
    var lon = form.querySelector("input[name=lon]");
    var accuracy = form.querySelector("input[name=accuracy_m]");
    if (!lat || !lon || !accuracy || form.located || !navigator.geolocation) {
      return Promise.resolve();
    }
    form.located = true;
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, 3500);
      try {
        navigator.geolocation.getCurrentPosition(function (position) {
          var c = position.coords;
          lat.value = String(c.latitude);
          lon.value = String(c.longitude);
          accuracy.value = String(Math.round(c.accuracy));
          clearTimeout(timer);
          resolve();
        }, function () { clearTimeout(timer); resolve(); },
        { enableHighAccuracy: false, timeout: 3000, maximumAge: 5 * 60 * 1000 });
      } catch (e) { clearTimeout(timer); resolve(); }
    });
  }

  function watch(form) {
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (form.busy) { event.preventDefault(); return; }
      // 全部合格 and the like refill the form: nothing to prepare, the plain post will do.
      if (submitter && submitter.hasAttribute("formnovalidate")) { form.busy = true; return; }
      stamp(form);
      event.preventDefault();
      form.busy = true;
      buttons(form, true);
      locate(form).then(function () { submit(form, submitter); });
    });
  }

  var forms = document.querySelectorAll("form[data-photos]");
  for (var i = 0; i < forms.length; i++) watch(forms[i]);
})();
