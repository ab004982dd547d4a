// xlalens report viewer: pan/zoom, drill-down and diff partner highlighting.
// Written for xlalens (Apache-2.0); no dependencies and no network access.
(function () {
  "use strict";

  function svgTemplate(file) {
    var t = document.querySelector('template[data-file="' + CSS.escape(file) + '"]');
    if (!t) return null;
    var svg = t.content.querySelector("svg");
    return svg ? document.importNode(svg, true) : null;
  }

  function parseBox(svg) {
    var vb = (svg.getAttribute("viewBox") || "").trim().split(/[\s,]+/).map(Number);
    if (vb.length === 4 && vb.every(isFinite) && vb[2] > 0 && vb[3] > 0) return vb;
    var w = parseFloat(svg.getAttribute("width")) || 100, h = parseFloat(svg.getAttribute("height")) || 100;
    return [0, 0, w, h];
  }

  function Viewer(root) {
    this.root = root;
    this.canvas = root.querySelector(".xl-canvas");
    this.crumbs = root.querySelector(".xl-crumbs");
    this.backBtn = root.querySelector('[data-act="back"]');
    this.stack = [];
    this.mount(this.canvas.querySelector("svg"), root.getAttribute("data-file"), root.getAttribute("data-title"));
    this.bind();
  }

  Viewer.prototype.mount = function (svg, file, title) {
    if (!svg) return;
    if (this.svg && this.svg !== svg) this.canvas.replaceChild(svg, this.svg);
    this.svg = svg;
    this.file = file;
    this.title = title || file;
    this.home = parseBox(svg);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    this.setBox(this.start());
    this.root.setAttribute("data-current", file || "");
    var names = this.stack.map(function (s) { return s.title; }).concat([this.title]);
    if (this.crumbs) this.crumbs.textContent = names.join("  \u203a  ");
    if (this.backBtn) this.backBtn.disabled = this.stack.length === 0;
  };

  // First view: the whole picture when its text stays legible, else the top-left
  // corner (legend and inputs) at a legible scale; "fit" always shows everything.
  Viewer.prototype.start = function () {
    var h = this.home, r = this.canvas.getBoundingClientRect();
    if (!r.width || !r.height) return h.slice();
    var scale = Math.min(r.width / h[2], r.height / h[3]);
    if (scale >= 0.45) return h.slice();
    var s = 0.6;
    return [h[0], h[1], Math.min(h[2], r.width / s), Math.min(h[3], r.height / s)];
  };

  Viewer.prototype.setBox = function (b) {
    this.box = b;
    this.svg.setAttribute("viewBox", b.join(" "));
  };

  Viewer.prototype.zoom = function (factor, cx, cy) {
    var b = this.box, r = this.svg.getBoundingClientRect();
    // Client point -> viewBox point, honouring the "meet" letterboxing.
    var s = Math.max(b[2] / r.width, b[3] / r.height);
    var ox = b[0] - (r.width * s - b[2]) / 2, oy = b[1] - (r.height * s - b[3]) / 2;
    var px = cx === undefined ? b[0] + b[2] / 2 : ox + (cx - r.left) * s;
    var py = cy === undefined ? b[1] + b[3] / 2 : oy + (cy - r.top) * s;
    var w = b[2] / factor, h = b[3] / factor;
    var maxW = this.home[2] * 4, minW = Math.min(40, this.home[2]);
    if (w > maxW || w < minW) return;
    this.setBox([px - (px - b[0]) / factor, py - (py - b[1]) / factor, w, h]);
  };

  Viewer.prototype.pan = function (dx, dy) {
    var b = this.box, r = this.svg.getBoundingClientRect();
    var s = Math.max(b[2] / r.width, b[3] / r.height);
    this.setBox([b[0] - dx * s, b[1] - dy * s, b[2], b[3]]);
  };

  Viewer.prototype.open = function (href, title) {
    var dir = (this.file || "").replace(/[^/]*$/, "");
    var file = dir + href;
    var svg = svgTemplate(file);
    if (!svg) {
      var note = this.root.querySelector(".xl-missing");
      if (note) { note.textContent = "drill-down " + file + " is not in this report"; note.hidden = false; }
      return;
    }
    this.stack.push({ svg: this.svg, file: this.file, title: this.title, home: this.home });
    this.mount(svg, file, title || href);
  };

  Viewer.prototype.back = function () {
    var prev = this.stack.pop();
    if (!prev) return;
    this.mount(prev.svg, prev.file, prev.title);
  };

  Viewer.prototype.bind = function () {
    var self = this, canvas = this.canvas, drag = null;
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();
      self.zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX, e.clientY);
    }, { passive: false });
    canvas.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId };
    });
    canvas.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!drag.moved) { drag.moved = true; canvas.classList.add("xl-dragging"); canvas.setPointerCapture(drag.id); }
      drag.x = e.clientX; drag.y = e.clientY;
      self.pan(dx, dy);
    });
    function end() {
      if (drag && drag.moved) { self.justDragged = true; setTimeout(function () { self.justDragged = false; }, 0); }
      drag = null;
      canvas.classList.remove("xl-dragging");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("click", function (e) {
      var link = e.target.closest("a");
      if (link) e.preventDefault();  // links are handled here; nothing is fetched
      if (self.justDragged) return;
      var group = e.target.closest(".xl-group, .xl-up");
      if (!group) return;
      var a = group.querySelector("a") || link;
      var href = a && (a.getAttribute("href") || a.getAttributeNS("http://www.w3.org/1999/xlink", "href"));
      if (!href) return;
      if (group.classList.contains("xl-up")) { self.back(); return; }
      var tip = a.getAttributeNS("http://www.w3.org/1999/xlink", "title") || a.getAttribute("title") || href;
      self.open(href, tip.split("\n")[0]);
    });
    canvas.addEventListener("mouseover", function (e) { self.partner(e, true); });
    canvas.addEventListener("mouseout", function (e) { self.partner(e, false); });
    this.root.querySelectorAll("[data-act]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var act = btn.getAttribute("data-act");
        if (act === "in") self.zoom(1.4);
        else if (act === "out") self.zoom(1 / 1.4);
        else if (act === "fit") self.setBox(self.home.slice());
        else if (act === "back") self.back();
      });
    });
  };

  // Diff view: hovering a node lights up its matched partner on the other side.
  Viewer.prototype.partner = function (e, on) {
    var node = e.target.closest("g.node");
    if (!node) return;
    var cls = Array.prototype.find.call(node.classList, function (c) { return c.indexOf("xl-pair-") === 0; });
    if (!cls) return;
    this.svg.querySelectorAll("g." + cls).forEach(function (g) { g.classList.toggle("xl-hl", on); });
  };

  function init() {
    window.xlalensViewers = [];
    document.querySelectorAll(".xl-viewer").forEach(function (el) {
      window.xlalensViewers.push(new Viewer(el));
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
