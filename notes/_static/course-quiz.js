/* Self-checks of the notes site, without a kernel (course/notesite/selfcheck.py writes the HTML).
 *
 * The page holds each question in sealed form only, as course/widgets/quiz.py makes it:
 *   key = first 16 hex chars of sha256("check" US question US answer)
 *   why = base64(utf-8 explanation XOR keystream), keystream = sha256(seed + counter) for
 *         counter = 0, 1, ... (4-byte big-endian), seed = sha256("unlock" US question US answer)
 * where US is "\x1f" and answer is the canonical text of the learner's choice or number.
 * A wrong answer shows the hint; the right one opens the explanation. SHA-256 is written out
 * below (synchronous, and the same on file:// and http:// pages, where crypto.subtle may be
 * missing); tests/test_notes_site.py checks it against Python's hashlib on known vectors.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ SHA-256 (FIPS 180-4)
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  function sha256(bytes) {  // Uint8Array -> Uint8Array(32)
    var n = bytes.length, padded = new Uint8Array(((n + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[n] = 0x80;
    var view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(n / 0x20000000));
    view.setUint32(padded.length - 4, (n << 3) >>> 0);
    var h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    var w = new Uint32Array(64);
    for (var off = 0; off < padded.length; off += 64) {
      for (var t = 0; t < 16; t++) w[t] = view.getUint32(off + 4 * t);
      for (t = 16; t < 64; t++) {
        var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
        var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (t = 0; t < 64; t++) {
        var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) >>> 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        k = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    var out = new Uint8Array(32), outView = new DataView(out.buffer);
    for (t = 0; t < 8; t++) outView.setUint32(4 * t, h[t]);
    return out;
  }

  function utf8(text) { return new TextEncoder().encode(text); }
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  function digest(parts) { return sha256(utf8(parts.join("\x1f"))); }

  // ------------------------------------------------------------------ the sealing of quiz.py
  var KEY_CHARS = 16;

  function answerKey(question, answer) { return hex(digest(["check", question, answer])).slice(0, KEY_CHARS); }

  function keystream(question, answer, length) {
    var seed = digest(["unlock", question, answer]), out = new Uint8Array(length + 32), filled = 0;
    for (var counter = 0; filled < length; counter++) {
      var block = new Uint8Array(seed.length + 4);
      block.set(seed);
      new DataView(block.buffer).setUint32(seed.length, counter);
      out.set(sha256(block), filled);
      filled += 32;
    }
    return out.subarray(0, length);
  }

  function unseal(question, answer, sealed) {
    var raw = atob(sealed), data = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) data[i] = raw.charCodeAt(i);
    var stream = keystream(question, answer, data.length);
    for (i = 0; i < data.length; i++) data[i] ^= stream[i];
    return new TextDecoder("utf-8").decode(data);
  }

  function incrementDigits(digits) {  // "0999" -> "1000" (a decimal string, no sign, no point)
    var chars = digits.split(""), i = chars.length - 1;
    while (i >= 0 && chars[i] === "9") { chars[i] = "0"; i--; }
    if (i < 0) chars.unshift("1"); else chars[i] = String(Number(chars[i]) + 1);
    return chars.join("");
  }

  // quiz.canonical(value, places): commas, underscores and spaces dropped, rounded to `places`
  // decimals as Python's round() does (exact ties go to the even digit), -0 written as 0.
  function canonicalNumber(text, places) {
    var t = String(text).trim().replace(/[,_ ]/g, "");
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
    var x = Number(t);
    if (!isFinite(x)) return null;
    var exact = Math.abs(x).toFixed(100).split("."), whole = exact[0], frac = exact[1];
    var digits = whole + frac.slice(0, places), rest = frac.slice(places);
    var last = Number(digits.charAt(digits.length - 1));
    var up = rest.charAt(0) > "5" || (rest.charAt(0) === "5" && (/[1-9]/.test(rest.slice(1)) || last % 2 === 1));
    if (up) digits = incrementDigits(digits);
    var intPart = digits.slice(0, digits.length - places) || "0";
    intPart = intPart.replace(/^0+(?=\d)/, "");
    var text2 = places > 0 ? intPart + "." + digits.slice(digits.length - places) : intPart;
    var zero = !/[1-9]/.test(digits);
    return (x < 0 && !zero ? "-" : "") + text2;
  }

  function canonical(answer, places) {
    return places === null || places === undefined ? String(answer).trim() : canonicalNumber(answer, places);
  }

  // ------------------------------------------------------------------ per-learner shuffle
  function learnerSeed() {
    var name = "course-learner-seed", seed = null;
    try { seed = window.localStorage.getItem(name); } catch (e) { /* storage blocked */ }
    if (!seed) {
      var bytes = new Uint8Array(8);
      if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
      else for (var i = 0; i < 8; i++) bytes[i] = Math.floor(Math.random() * 256);
      seed = hex(bytes);
      try { window.localStorage.setItem(name, seed); } catch (e) { /* shuffled for this visit only */ }
    }
    return seed;
  }

  function shuffled(items, seed, question) {  // Fisher-Yates driven by sha256(seed, question, i)
    var order = items.slice(), state = digest([seed, question]);
    for (var i = order.length - 1; i > 0; i--) {
      state = sha256(state);
      var r = new DataView(state.buffer).getUint32(0) % (i + 1), tmp = order[i];
      order[i] = order[r]; order[r] = tmp;
    }
    return order;
  }

  // ------------------------------------------------------------------ the page
  function given(card) {
    var number = card.querySelector("input.course-q-number");
    if (number) return number.value.trim() === "" ? null : number.value;
    var picked = card.querySelector("input[type=radio]:checked");
    return picked ? picked.value : null;
  }

  function verdict(card, texts) {
    var q = JSON.parse(card.getAttribute("data-sealed")), value = given(card);
    if (value === null) return {text: texts.empty, state: "empty"};
    var answer = canonical(value, q.kind === "number" ? q.places : null);
    if (answer !== null && answerKey(q.question, answer) === q.key) {
      return {text: texts.right + ". " + unseal(q.question, answer, q.why), state: "right"};
    }
    return {text: texts.wrong + ". Hint: " + q.hint, state: "wrong"};
  }

  function setUp(section) {
    var texts = JSON.parse(section.getAttribute("data-texts")), seed = learnerSeed();
    section.querySelectorAll(".course-q").forEach(function (card) {
      var q = JSON.parse(card.getAttribute("data-sealed"));
      var list = card.querySelector(".course-q-options");
      if (list) {  // reorder the option labels for this learner
        var labels = Array.prototype.slice.call(list.children);
        var byText = {};
        labels.forEach(function (label) { byText[label.querySelector("input").value] = label; });
        shuffled(q.options, seed, q.question).forEach(function (option) { list.appendChild(byText[option]); });
      }
      var feedback = card.querySelector(".course-q-feedback");
      var check = function () {
        var result = verdict(card, texts);
        feedback.textContent = result.text;
        feedback.setAttribute("data-state", result.state);
      };
      card.querySelector("button.course-q-check").addEventListener("click", check);
      card.querySelectorAll("input").forEach(function (input) {
        // a new choice or a new number makes the old verdict stale
        input.addEventListener(input.type === "radio" ? "change" : "input", function () {
          feedback.textContent = ""; feedback.removeAttribute("data-state");
        });
        input.addEventListener("keydown", function (event) {
          if (event.key === "Enter") { event.preventDefault(); check(); }
        });
      });
    });
    section.setAttribute("data-ready", "true");
  }

  window.courseQuiz = {sha256Hex: function (text) { return hex(sha256(utf8(text))); },
                       answerKey: answerKey, unseal: unseal, canonical: canonical, shuffled: shuffled};
  function start() { document.querySelectorAll(".course-selfcheck").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
