/* llmath book: keyboard access to whatever scrolls sideways, and figures that open full size.

   1. Anything that overflows its box sideways (a long display equation, a printed array, a wide
      table, a notebook cell or output) gets tabindex="0" and a label, so a keyboard can scroll
      it (WCAG 2.1.1; axe's scrollable-region-focusable); it loses them again when a wider window
      makes it fit. Re-run on resize. book.css draws the scroll shadows.
   2. A figure whose text a narrow screen shrinks below ~75 % gets a "Full size" button that
      shows it at its natural size in a dialog that scrolls.
   When a pass is done, <html data-llm-ready="1"> tells the browser tests it has run. */
(function () {
  "use strict";

  var SCROLLERS = [
    ["div.arithmatex", "Equation, scrolls sideways"],
    ["pre.llm-output > code", "Printed output, scrolls sideways"],
    [".md-typeset__scrollwrap", "Table, scrolls sideways"],
    [".jupyter-wrapper .highlight-ipynb", "Code cell, scrolls sideways"],
    [".jupyter-wrapper .jp-OutputArea-output", "Cell output, scrolls sideways"],
    [".jupyter-wrapper .jp-RenderedText pre", "Cell output, scrolls sideways"],
    [".md-typeset pre > code", null]  // Material labels code blocks itself
  ];

  function overflows(el) {
    return el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1 &&
      /(auto|scroll)/.test(getComputedStyle(el).overflowY);
  }

  function markScrollers() {
    SCROLLERS.forEach(function (entry) {
      document.querySelectorAll(entry[0]).forEach(function (el) {
        var ours = el.hasAttribute("data-llm-scroll");
        if (overflows(el)) {
          if (el.hasAttribute("tabindex") && !ours) return;  // someone else manages it
          el.setAttribute("tabindex", "0");
          el.setAttribute("data-llm-scroll", "");
          if (entry[1] && !el.hasAttribute("aria-label")) {
            el.setAttribute("role", "group");
            el.setAttribute("aria-label", entry[1]);
            el.setAttribute("data-llm-label", "");
          }
        } else if (ours) {
          el.removeAttribute("tabindex");
          el.removeAttribute("data-llm-scroll");
          if (el.hasAttribute("data-llm-label")) {
            el.removeAttribute("role");
            el.removeAttribute("aria-label");
            el.removeAttribute("data-llm-label");
          }
        }
      });
    });
  }

  function naturalWidth(svg) {
    var w = svg.getAttribute("width") || "";
    var n = parseFloat(w);
    if (!n) return 0;
    return /pt$/.test(w) ? n * 4 / 3 : n;
  }

  function openFigure(figure) {
    var svg = figure.querySelector("svg");
    var label = figure.querySelector(".llm-label");
    var title = label ? label.textContent.replace(/\.$/, "") : "Figure";
    var dialog = document.createElement("dialog");
    dialog.className = "llm-zoom";
    dialog.setAttribute("aria-label", title + ", full size");
    var bar = document.createElement("div");
    bar.className = "llm-zoom__bar";
    var name = document.createElement("span");
    name.textContent = title + ", full size";
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Close";
    bar.appendChild(name);
    bar.appendChild(close);
    var body = document.createElement("div");
    body.className = "llm-zoom__body";
    body.setAttribute("tabindex", "0");
    body.setAttribute("role", "region");
    body.setAttribute("aria-label", title);
    var copy = svg.cloneNode(true);
    copy.style.width = naturalWidth(svg) + "px";
    body.appendChild(copy);
    dialog.appendChild(bar);
    dialog.appendChild(body);
    document.body.appendChild(dialog);
    close.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      dialog.remove();
      var opener = figure.querySelector(".llm-zoom-button");
      if (opener) opener.focus();
    });
    dialog.showModal();
    close.focus();
  }

  function markFigures() {
    document.querySelectorAll(".llm-figure").forEach(function (figure) {
      var svg = figure.querySelector(":scope > svg");
      if (!svg) return;
      var button = figure.querySelector(".llm-zoom-button");
      if (!button) {
        var caption = figure.querySelector("figcaption");
        if (!caption || typeof HTMLDialogElement === "undefined") return;
        button = document.createElement("button");
        button.type = "button";
        button.className = "llm-zoom-button";
        button.textContent = "Full size";
        var label = figure.querySelector(".llm-label");
        button.setAttribute("aria-label", "Show " + (label ? label.textContent.replace(/\.$/, "") : "the figure") + " full size");
        button.addEventListener("click", function () { openFigure(figure); });
        caption.appendChild(button);
      }
      var natural = naturalWidth(svg);
      button.hidden = !(natural && svg.getBoundingClientRect().width < 0.75 * natural);
    });
  }

  var pending = 0;
  function update() {
    pending = 0;
    markFigures();
    markScrollers();
    document.documentElement.setAttribute("data-llm-ready", "1");
  }
  function schedule() {
    if (!pending) pending = window.requestAnimationFrame(update);
  }

  function init() {
    update();
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(update);
  }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);  // Material's page-load observable (also instant navigation)
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  window.addEventListener("load", update);
  window.addEventListener("resize", schedule);
})();
