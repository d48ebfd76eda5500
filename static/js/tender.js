/* The /verify pages' scripts (no inline script: the Content-Security-Policy
 * allows /static only). The pages work without this file; what it adds:
 *
 * - the in-browser check of a verification receipt: the browser itself
 *   verifies the receipt's Ed25519 signature (RFC 8037 EdDSA over the JWS
 *   signing input, RFC 7515 §5.2) with WebCrypto against the key published at
 *   /.well-known/jwks.json, and writes the outcome to #browser-check
 *   (data-result "passed" or "failed", PRODUCT §4; "unsupported", said plainly,
 *   where the browser has no Ed25519 in WebCrypto or the page is not served
 *   over HTTPS, which WebCrypto requires);
 * - a receipt given in the URL fragment (/verify/receipt#<jws>: the fragment
 *   never reaches the server) is put into the form and checked;
 * - print buttons;
 * - date and time pickers beside the deadline field (/verify): they fill the
 *   text field `as_of` ("2026-10-01 09:30"), which is all the form sends, so a
 *   plain POST without this file works the same.
 */
(function () {
  "use strict";

  var RECEIPT_TYP = "starmark-receipt+jws";

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  each("[data-print]", function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  var pickers = document.getElementById("as_of_pickers");
  var asOf = document.getElementById("as_of");
  if (pickers && asOf) {
    var date = document.getElementById("as_of_date");
    var time = document.getElementById("as_of_time");
    pickers.hidden = false;
    var fill = function () {
      if (!date.value) { return; }
      asOf.value = date.value + (time.value ? " " + time.value : "");
    };
    date.addEventListener("change", fill);
    time.addEventListener("change", fill);
  }

  var out = document.getElementById("browser-check");
  if (!out) { return; }

  function message(name, values) {
    var text = out.getAttribute("data-msg-" + name) || name;
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(values[key]);
    });
    return text;
  }

  function report(result, text) {
    out.setAttribute("data-result", result);
    out.textContent = text;
  }

  function CheckFailed(why) { this.why = why; }

  function fail(why) { throw new CheckFailed(why); }

  function base64url(text, what) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) { fail(what + " is not base64url"); }
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var binary;
    try { binary = atob(b64); } catch (e) { fail(what + " is not base64url"); }
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  function json(bytes, what) {
    try {
      return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      fail(what + " is not JSON");
    }
  }

  function instant(text) {
    return typeof text === "string" ? Date.parse(text) : NaN;
  }

  function fragmentToken(replaceForm) {
    if (location.hash.length < 2) { return ""; }
    var token;
    try { token = decodeURIComponent(location.hash.slice(1)).trim(); } catch (e) { return ""; }
    var field = document.getElementById("jws");
    if (field && (replaceForm || !field.value)) { field.value = token; }
    return token;
  }

  function receiptToken() {
    var url = out.getAttribute("data-receipt-url");
    if (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) { fail("the receipt could not be fetched (HTTP " + response.status + ")"); }
        return response.text();
      });
    }
    var posted = document.getElementById("receipt-token");
    if (posted && posted.value.trim()) { return Promise.resolve(posted.value.trim()); }
    return Promise.resolve(fragmentToken());
  }

  function usableAt(jwk, signedAt) {
    var notBefore = instant(jwk.not_before);
    var notAfter = instant(jwk.not_after);
    var compromisedAt = instant(jwk.compromised_at);
    if (!isNaN(notBefore) && signedAt < notBefore) { fail("signed before the key's window"); }
    if (!isNaN(notAfter) && signedAt > notAfter) { fail("signed after the key's window"); }
    if (!isNaN(compromisedAt) && signedAt >= compromisedAt) {
      fail("signed after the key was marked compromised");
    }
  }

  function check(token) {
    var parts = token.split(".");
    if (parts.length !== 3) { fail("not a compact JWS (three parts separated by dots)"); }
    var header = json(base64url(parts[0], "the header"), "the header");
    var keys = Object.keys(header || {}).sort().join(",");
    if (keys !== "alg,kid,typ") { fail("the header must have exactly alg, kid and typ"); }
    if (header.alg !== "EdDSA") { fail("alg is not EdDSA"); }
    if (header.typ !== RECEIPT_TYP) { fail("not a receipt (typ " + header.typ + ")"); }
    var signature = base64url(parts[2], "the signature");
    if (signature.length !== 64) { fail("an Ed25519 signature is 64 bytes"); }
    var signingInput = new TextEncoder().encode(parts[0] + "." + parts[1]);
    if (!window.crypto || !window.crypto.subtle) { return Promise.reject("unsupported"); }
    return fetch(out.getAttribute("data-jwks"), { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { fail("the registry's keys could not be fetched"); }
        return response.json();
      })
      .then(function (jwks) {
        var jwk = (jwks.keys || []).filter(function (k) { return k.kid === header.kid; })[0];
        if (!jwk) { fail("key " + header.kid + " is not among the registry's keys"); }
        if (jwk.body !== undefined && jwk.body !== null && jwk.body !== "registry") {
          fail("key " + header.kid + " belongs to " + jwk.body + ", not to the registry");
        }
        return crypto.subtle
          .importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"])
          .catch(function () { return Promise.reject("unsupported"); })
          .then(function (key) {
            return crypto.subtle.verify({ name: "Ed25519" }, key, signature, signingInput);
          })
          .then(function (valid) {
            if (!valid) { fail("the signature does not match the receipt"); }
            var payload = json(base64url(parts[1], "the payload"), "the payload");
            if (!payload || payload.type !== "starmark.receipt") { fail("the payload is not a receipt"); }
            if (!payload.issuer || payload.issuer.code !== "registry") { fail("the issuer is not the registry"); }
            var signedAt = instant(payload.signed_at);
            if (isNaN(signedAt)) { fail("signed_at is unreadable"); }
            usableAt(jwk, signedAt);
            return header.kid;
          });
      });
  }

  function run(tokenPromise) {
    return tokenPromise
      .then(function (token) {
        token = (token || "").trim();
        if (!token) { report("none", message("none")); return; }
        report("pending", message("checking"));
        return check(token).then(function (kid) { report("passed", message("passed", { kid: kid })); });
      })
      .catch(function (error) {
        if (error === "unsupported") { report("unsupported", message("unsupported")); return; }
        var why = error instanceof CheckFailed ? error.why : String(error && error.message || error);
        report("failed", message("failed", { why: why }));
      });
  }

  run(receiptToken());

  // A new receipt in the fragment (a link opened on this same page) is a new check.
  window.addEventListener("hashchange", function () {
    if (out.getAttribute("data-receipt-url") || document.getElementById("receipt-token")) { return; }
    run(Promise.resolve(fragmentToken(true)));
  });
})();
