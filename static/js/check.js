// The in-browser check of the verification page; what it checks and why is in
// docs/verification-page.md. The browser verifies every Ed25519 signature again
// (WebCrypto, RFC 8037), each key's right to sign (PRODUCT §3), the [data-signed]
// texts, and, through the signed checkpoint, each document's inclusion proof
// (RFC 9162 §2.1.3.2). Outcomes: #browser-check[data-result] and [data-log].
(function () {
  "use strict";
  var out = document.getElementById("browser-check");
  var verdict = document.getElementById("verdict");
  if (!out || !verdict) {
    return;
  }
  var STARS = { compliant: 0, three_star: 3, four_star: 4, five_star: 5 };
  var number = verdict.getAttribute("data-number");

  function say(result, detail, message) {
    out.textContent = out.getAttribute("data-msg-" + (message || result)) + (detail ? " (" + detail + ")" : "");
    if (result !== "checking") {
      out.setAttribute("data-result", result);
    }
  }

  function Unsupported(message) {
    this.message = message;
  }

  function fail(message) {
    throw new Error(message);
  }

  function bytes(b64url) {
    if (!/^[A-Za-z0-9_-]*$/.test(b64url)) {
      fail("not base64url");
    }
    return binary(atob(b64url.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (b64url.length % 4)) % 4)));
  }

  // Standard base64 (RFC 4648 §4), as checkpoints and the proof API write hashes.
  function standard(b64) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      fail("not standard base64");
    }
    return binary(atob(b64));
  }

  function binary(text) {
    var result = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) {
      result[i] = text.charCodeAt(i);
    }
    return result;
  }

  function json(b64url) {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes(b64url)));
  }

  async function get(url) {
    var response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "omit" });
    if (!response.ok) {
      fail(url + ": HTTP " + response.status);
    }
    return response.json();
  }

  var imported = {};

  async function publicKey(jwk) {
    if (!imported[jwk.kid]) {
      imported[jwk.kid] = crypto.subtle
        .importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"])
        .catch(function (e) {
          throw new Unsupported(String(e && e.name));
        });
    }
    return imported[jwk.kid];
  }

  // Verify one compact JWS; returns its payload.
  async function open(token, typ, keys) {
    var parts = String(token).split(".");
    if (parts.length !== 3) {
      fail("a document is not a compact JWS");
    }
    var header = json(parts[0]);
    if (header.alg !== "EdDSA" || header.typ !== typ) {
      fail("unexpected JWS header");
    }
    var jwk = keys[header.kid];
    if (!jwk) {
      fail("unknown key " + header.kid);
    }
    var key = await publicKey(jwk);
    var signed = new TextEncoder().encode(parts[0] + "." + parts[1]);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, bytes(parts[2]), signed))) {
      fail("a signature does not verify");
    }
    var payload = json(parts[1]);
    var at = Date.parse(payload.signed_at);
    if (jwk.body && (!payload.issuer || payload.issuer.code !== jwk.body)) {
      fail("key " + jwk.kid + " belongs to another body");
    }
    if (
      !(at >= Date.parse(jwk.not_before || "1970-01-01T00:00:00Z")) ||
      (jwk.not_after && at > Date.parse(jwk.not_after)) ||
      (jwk.compromised_at && at >= Date.parse(jwk.compromised_at))
    ) {
      fail("key " + jwk.kid + " may not sign at " + payload.signed_at);
    }
    if (payload.number !== number) {
      fail("a document is for another certificate");
    }
    return payload;
  }

  function valueAt(object, path) {
    return path.split(".").reduce(function (value, name) {
      return value === null || value === undefined ? undefined : value[name];
    }, object);
  }

  // An instant as the page shows it: "YYYY-MM-DD HH:MM", China Standard Time.
  function cst(instant) {
    return new Date(Date.parse(instant) + 8 * 3600 * 1000).toISOString().slice(0, 16).replace("T", " ");
  }

  function compare(certificate, events) {
    document.querySelectorAll("[data-signed]").forEach(function (element) {
      var name = element.getAttribute("data-signed");
      var value = valueAt(certificate, name);
      if (value === undefined || value === null || String(value) !== element.textContent.trim()) {
        fail(name + " differs from the signed certificate");
      }
    });
    if (verdict.getAttribute("data-level") !== certificate.level) {
      fail("level differs from the signed certificate");
    }
    var stars = document.querySelector(".stars");
    if ((stars ? stars.textContent.trim().length : 0) !== STARS[certificate.level]) {
      fail("the stars differ from the signed level");
    }
    var rows = document.querySelectorAll("[data-event]");
    var ordered = events
      .map(function (payload, index) {
        return { payload: payload, index: index, at: Date.parse(payload.effective_at) };
      })
      .sort(function (a, b) {
        return a.at - b.at || a.index - b.index;
      });
    if (rows.length !== ordered.length) {
      fail("the history has " + rows.length + " events, " + ordered.length + " are signed");
    }
    ordered.forEach(function (item, i) {
      var row = rows[i];
      var reason = row.querySelector("[data-reason]");
      if (
        row.getAttribute("data-status") !== item.payload.status ||
        row.querySelector("[data-signed-instant]").textContent.trim() !== cst(item.payload.effective_at) ||
        (reason ? reason.textContent.trim() : null) !== (item.payload.reason || null)
      ) {
        fail("history entry " + (i + 1) + " differs from its signed event");
      }
    });
  }

  async function check() {
    // A page without a signed certificate (signature invalid, malformed) never passes.
    if (!verdict.getAttribute("data-revision")) {
      return "nothing";
    }
    if (!window.crypto || !crypto.subtle || !window.TextDecoder) {
      throw new Unsupported("no WebCrypto");
    }
    say("checking");
    var results = await Promise.all([served, get("/.well-known/jwks.json")]);
    var signed = results[0];
    var keys = {};
    results[1].keys.forEach(function (jwk) {
      keys[jwk.kid] = jwk;
    });
    var revisions = [];
    for (var r of signed.revisions) {
      revisions.push(await open(r.jws, "starmark-cert+jws", keys));
    }
    var events = [];
    for (var e of signed.events) {
      events.push(await open(e.jws, "starmark-status+jws", keys));
    }
    var shown = verdict.getAttribute("data-revision");
    var certificate = revisions.filter(function (p) {
      return String(p.revision) === shown;
    })[0];
    if (!certificate) {
      fail("revision " + shown + " is not among the signed revisions");
    }
    compare(certificate, events);
    return "passed";
  }

  // The certificate's documents as the registry serves them: both checks read these.
  var served = get("/api/v1/certificates/" + encodeURIComponent(number));
  served.catch(function () {}); // each check reports its own failure

  check().then(
    function (result) {
      say(result === "nothing" ? "failed" : "passed", "", result);
    },
    function (error) {
      if (error instanceof Unsupported) {
        say("unsupported");
      } else {
        say("failed", error && error.message);
      }
    }
  );

  // ------------------------------------------------------------- the log

  var logOut = document.getElementById("log-check");

  function sayLog(result, detail) {
    if (result !== "checking") {
      out.setAttribute("data-log", result);
    }
    if (logOut) {
      logOut.setAttribute("data-result", result);
      logOut.textContent = logOut.getAttribute("data-msg-" + result) + (detail ? " (" + detail + ")" : "");
    }
  }

  function concat() {
    var parts = Array.prototype.slice.call(arguments);
    var result = new Uint8Array(parts.reduce(function (n, p) { return n + p.length; }, 0));
    var offset = 0;
    parts.forEach(function (p) {
      result.set(p, offset);
      offset += p.length;
    });
    return result;
  }

  async function sha256(data) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  }

  function same(a, b) {
    return a.length === b.length && a.every(function (x, i) { return x === b[i]; });
  }

  function hex(data) {
    return Array.prototype.map.call(data, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  async function text(url) {
    var response = await fetch(url, { headers: { Accept: "text/plain" }, credentials: "omit" });
    if (!response.ok) {
      fail(url + ": HTTP " + response.status);
    }
    return response.text();
  }

  // The checkpoint {size, root}, once its signed-note signature holds under `vkey`
  // ("name+hex(keyid)+base64(0x01 || pubkey)", c2sp.org/signed-note) and that key
  // is the registry's own in the JWKS (the key whose body is "registry").
  async function openCheckpoint(note, vkey, jwks) {
    var parts = vkey.trim().split("+");
    var name = parts[0];
    var material = standard(parts.slice(2).join("+"));
    if (parts.length < 3 || material.length !== 33 || material[0] !== 1) {
      fail("the log key is not an Ed25519 note key");
    }
    var raw = material.slice(1);
    // signed-note: key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]
    var keyId = (await sha256(concat(new TextEncoder().encode(name), new Uint8Array([0x0a, 0x01]), raw))).slice(0, 4);
    if (hex(keyId) !== parts[1]) {
      fail("the log key's ID is not the hash of its name and key");
    }
    var published = jwks.keys.some(function (jwk) {
      return jwk.body === "registry" && same(bytes(jwk.x), raw);
    });
    if (!published) {
      fail("the log key is not the registry's key in the JWKS");
    }
    var end = note.lastIndexOf("\n\n");
    if (end < 0) {
      fail("the checkpoint is not a signed note");
    }
    var body = note.slice(0, end + 1);
    var lines = body.split("\n");
    if (lines[0] !== name || !/^[1-9][0-9]*$/.test(lines[1])) {
      fail("the checkpoint is not of this log");
    }
    var prefix = "\u2014 " + name + " ";
    var line = note.slice(end + 2).split("\n").filter(function (l) {
      return l.indexOf(prefix) === 0;
    })[0];
    if (!line) {
      fail("the checkpoint has no signature by the log key");
    }
    var signature = standard(line.slice(prefix.length));
    if (signature.length !== 68 || !same(signature.slice(0, 4), keyId)) {
      fail("the checkpoint's signature is not by the log key");
    }
    var key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]).catch(function (e) {
      throw new Unsupported(String(e && e.name));
    });
    var signedText = new TextEncoder().encode(body);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature.slice(4), signedText))) {
      fail("the checkpoint's signature does not verify");
    }
    return { size: Number(lines[1]), root: standard(lines[2]) };
  }

  // RFC 9162 §2.1.3.2: the root hash from a leaf hash and its inclusion proof.
  async function rootFrom(index, size, leaf, proof) {
    if (!(index < size) || !Array.isArray(proof)) {
      fail("leaf " + index + " is outside the checkpoint");
    }
    var fn = index;
    var sn = size - 1;
    var r = leaf;
    for (var p of proof) {
      var sibling = standard(p);
      if (sn === 0) {
        fail("the inclusion proof of leaf " + index + " is too long");
      }
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(new Uint8Array([0x01]), sibling, r));
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = await sha256(concat(new Uint8Array([0x01]), r, sibling));
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) {
      fail("the inclusion proof of leaf " + index + " is too short");
    }
    return r;
  }

  async function checkLog() {
    if (!window.crypto || !crypto.subtle || !window.TextEncoder) {
      throw new Unsupported("no WebCrypto");
    }
    sayLog("checking");
    var fetched = await Promise.all([served, text("/log/checkpoint"), text("/log/key")]);
    var signed = fetched[0];
    // After /log/key, which makes the registry's key on first use.
    var checkpoint = await openCheckpoint(fetched[1], fetched[2], await get("/.well-known/jwks.json"));
    var documents = signed.revisions.concat(signed.events);
    var listed = Array.prototype.map.call(document.querySelectorAll("[data-log-index]"), function (row) {
      return row.getAttribute("data-log-index");
    });
    var indexes = documents.map(function (d) {
      return String(d.log_index);
    });
    if (listed.slice().sort().join() !== indexes.slice().sort().join()) {
      fail("the page lists log indexes " + listed.join(", ") + ", the registry serves " + indexes.join(", "));
    }
    await Promise.all(
      documents.map(async function (d) {
        var proof = await get("/api/v1/log/proofs/inclusion?index=" + d.log_index + "&size=" + checkpoint.size);
        // RFC 6962 §2.1: leaf hash = SHA-256(0x00 || the JWS's ASCII bytes)
        var leaf = await sha256(concat(new Uint8Array([0x00]), new TextEncoder().encode(d.jws)));
        if (!same(await rootFrom(d.log_index, checkpoint.size, leaf, proof.proof), checkpoint.root)) {
          fail("log entry " + d.log_index + " is not in the signed tree");
        }
      })
    );
  }

  if (document.querySelector("[data-log-index]")) {
    checkLog().then(
      function () {
        sayLog("passed");
      },
      function (error) {
        if (error instanceof Unsupported) {
          sayLog("unsupported");
        } else {
          sayLog("failed", error && error.message);
        }
      }
    );
  }
})();
