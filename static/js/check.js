// The in-browser check of the verification page (docs/verification-page.md).
//
// The page is complete without this script: the registry has verified every
// signature already. Here the browser does it again on its own: it fetches the
// certificate's signed documents and the registry's public keys (same origin
// only), verifies every Ed25519 signature with WebCrypto (RFC 8037 EdDSA over
// "header.payload", RFC 7515 §5.2), checks that each key may sign for this body
// at the document's signed_at (PRODUCT §3), and compares every [data-signed]
// text on the page with the signed payload. The outcome goes to
// #browser-check[data-result]: "passed", "failed", or "unsupported" where
// WebCrypto has no Ed25519. No framework, no other origin, no inline script.
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

  // A page without a signed certificate (signature invalid, malformed) never passes.
  if (!verdict.getAttribute("data-revision")) {
    say("failed", "", "nothing");
    return;
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
    var text = atob(b64url.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (b64url.length % 4)) % 4));
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
    if (!window.crypto || !crypto.subtle || !window.TextDecoder) {
      throw new Unsupported("no WebCrypto");
    }
    say("checking");
    var path = encodeURIComponent(number);
    var results = await Promise.all([get("/api/v1/certificates/" + path), get("/.well-known/jwks.json")]);
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
  }

  check().then(
    function () {
      say("passed");
    },
    function (error) {
      if (error instanceof Unsupported) {
        say("unsupported");
      } else {
        say("failed", error && error.message);
      }
    }
  );
})();
