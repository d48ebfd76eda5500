// Live checks on the console's certificate forms (no build step, no inline script: CSP).
// The server checks everything again; these only tell the clerk early.
//  - USCC check character, GB 32100-2015: over the alphabet 0-9 A-H J-N P-R T U W-Y,
//    weights W_i = 3^i mod 31, check = 31 - (sum C_i * W_i mod 31), 31 standing for 0
//    (the same rule as signing/identifiers.py).
//  - The level a score earns: the thresholds come from the server (data-thresholds on
//    the score field, from signing/scheme.py), never written here.
(function () {
  "use strict";
  var ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";

  function checkCharacter(first17) {
    var total = 0;
    var weight = 1;
    for (var i = 0; i < 17; i++) {
      var value = ALPHABET.indexOf(first17.charAt(i));
      if (value < 0) {
        return null;
      }
      total += value * weight;
      weight = (weight * 3) % 31;
    }
    return ALPHABET.charAt((31 - (total % 31)) % 31);
  }

  function usccMessage(text, words) {
    var code = text.trim().toUpperCase();
    if (code === "") {
      return ["", ""];
    }
    if (code.length !== 18 || !/^[0-9A-HJ-NPQRTUW-Y]{2}[0-9]{6}[0-9A-HJ-NPQRTUW-Y]{10}$/.test(code)) {
      return ["error", words.shape];
    }
    var expected = checkCharacter(code.slice(0, 17));
    if (expected !== code.charAt(17)) {
      return ["error", words.bad.replace("{check}", expected)];
    }
    return ["ok", words.ok];
  }

  function levelMessage(text, thresholds, words) {
    var value = text.trim();
    if (value === "") {
      return ["", ""];
    }
    if (!/^[0-9]{1,3}(\.[0-9])?$/.test(value) || Number(value) > 100) {
      return ["error", words.score];
    }
    var score = Number(value);
    for (var i = 0; i < thresholds.length; i++) {
      if (score >= thresholds[i][0]) {
        return ["ok", thresholds[i][1]];
      }
    }
    return ["error", words.below];
  }

  function show(output, result) {
    output.textContent = result[1];
    if (result[0]) {
      output.setAttribute("data-result", result[0]);
    } else {
      output.removeAttribute("data-result");
    }
  }

  document.querySelectorAll("form[data-live-checks]").forEach(function (form) {
    var words = JSON.parse(form.getAttribute("data-live-checks"));
    var uscc = form.querySelector('[name="holder.uscc"]');
    var score = form.querySelector('[name="score"]');
    var usccOut = form.querySelector(".live-check[data-for='holder.uscc']");
    var levelOut = form.querySelector(".live-check[data-for='score']");
    if (uscc && usccOut) {
      var onUscc = function () { show(usccOut, usccMessage(uscc.value, words)); };
      uscc.addEventListener("input", onUscc);
      onUscc();
    }
    if (score && levelOut) {
      var thresholds = JSON.parse(score.getAttribute("data-thresholds") || "[]");
      var onScore = function () { show(levelOut, levelMessage(score.value, thresholds, words)); };
      score.addEventListener("input", onScore);
      onScore();
    }
  });
})();
