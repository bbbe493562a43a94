/* Explorers of the notes site without a kernel (course/notesite/explorers.py writes the HTML).
 * The build drew each explorer over a grid of control values; moving a control here picks the
 * picture, readout and alt text drawn for the chosen combination. */
(function () {
  "use strict";

  function setUp(box) {
    var data = JSON.parse(box.querySelector("script.course-explorer-data").textContent);
    var controls = Array.prototype.slice.call(box.querySelectorAll("[data-axis]"));
    var readout = box.querySelector(".course-explorer-readout");
    var pictures = box.querySelector(".course-explorer-pictures");

    function show() {
      var key = controls.map(function (c) { return c.value; }).join(",");
      var frame = data.frames[key];
      if (!frame) return;
      controls.forEach(function (c) {
        if (c.type === "range") {
          var label = c.parentNode.querySelector("output");
          var text = JSON.parse(c.getAttribute("data-values"))[Number(c.value)];
          label.textContent = text;
          c.setAttribute("aria-valuetext", text);
        }
      });
      readout.innerHTML = frame.texts.map(function (t) { return "<div>" + data.texts[t] + "</div>"; }).join("");
      var imgs = pictures.querySelectorAll("img");
      frame.images.forEach(function (index, n) {
        var img = imgs[n];
        if (!img) { img = document.createElement("img"); img.className = "course-explorer-picture"; pictures.appendChild(img); }
        img.src = data.images[index];
        img.alt = frame.alt;
      });
      for (var n = frame.images.length; n < imgs.length; n++) pictures.removeChild(imgs[n]);
      box.setAttribute("data-frame", key);
    }

    controls.forEach(function (c) {
      c.addEventListener("input", show);
      c.addEventListener("change", show);
    });
    box.setAttribute("data-ready", "true");
  }

  function start() { document.querySelectorAll(".course-explorer").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
