// xlalens report: card viewers (an iframe per card on an SVG file), drill-down
// with a back stack, heat mode, and search. Written for xlalens (Apache-2.0);
// no dependencies and no network access: every load is a relative file:// path.
// The SVGs carry their own viewer script and talk to this page by postMessage
// only (Chromium gives each file:// document its own origin).
(function () {
  "use strict";
  var viewers = [];
  // A card's SVG is loaded when the card comes near the viewport: loading=lazy
  // alone loaded every frame of a file:// report at once (see _report's NOTE).
  var near = ("IntersectionObserver" in window) ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (!e.isIntersecting) return;
      near.unobserve(e.target);
      if (!e.target.getAttribute("src")) e.target.setAttribute("src", e.target.getAttribute("data-src"));
    });
  }, { rootMargin: "400px 0px" }) : null;

  function Viewer(root) {
    this.root = root;
    this.frame = root.querySelector("iframe.xl-frame");
    this.crumbs = root.querySelector(".xl-crumbs");
    this.backBtn = root.querySelector('[data-act="back"]');
    this.openLink = root.querySelector("a.xl-open");
    this.note = root.querySelector(".xl-missing");
    this.file = root.getAttribute("data-file");
    this.title = root.getAttribute("data-title");
    this.stack = [];
    this.heat = false;
    if (near) near.observe(this.frame);
    else this.frame.setAttribute("src", this.frame.getAttribute("data-src"));
    this.bind();
    this.show();
    // A frame may have loaded before this script ran, and its "ready" was
    // missed: ask again (a frame still loading posts its own when done).
    this.post({ xl: "hello" });
  }

  Viewer.prototype.dir = function () { return (this.file || "").replace(/[^/]*$/, ""); };

  Viewer.prototype.show = function () {
    var names = this.stack.map(function (s) { return s.title; }).concat([this.title]);
    if (this.crumbs) this.crumbs.textContent = names.join("  \u203a  ");
    if (this.backBtn) this.backBtn.disabled = this.stack.length === 0;
    if (this.openLink) this.openLink.setAttribute("href", this.file);
    this.root.setAttribute("data-current", this.file);
  };

  Viewer.prototype.load = function (file, title, hash) {
    this.file = file;
    this.title = title || file;
    if (this.note) this.note.hidden = true;
    this.root.removeAttribute("data-ready");
    this.frame.setAttribute("src", file + (hash ? "#" + encodeURIComponent(hash) : ""));
    this.show();
  };

  // The dump folder, for the command that draws the views it left out.
  function dumpDir() {
    return decodeURIComponent(location.pathname).replace(/\/[^/]*$/, "") || ".";
  }

  Viewer.prototype.open = function (href, title, deferred) {
    if (deferred) {
      // Not drawn by the dump (docs/render.md, Lazy views): say how, over the view.
      if (this.note) {
        this.note.innerHTML = "";
        var p = document.createElement("p"), code = document.createElement("code");
        p.textContent = "\u201c" + title + "\u201d was not drawn when the dump was made " +
          "(kernels\u2019 bodies and deep views are drawn on demand). To draw it and every other view, run:";
        code.textContent = "xlalens render " + dumpDir() + " --all-views";
        var p2 = document.createElement("p");
        p2.textContent = "then reload this page. (click to close)";
        this.note.appendChild(p); this.note.appendChild(code); this.note.appendChild(p2);
        this.note.hidden = false;
      }
      return;
    }
    this.stack.push({ file: this.file, title: this.title });
    this.load(this.dir() + href, title);
  };

  Viewer.prototype.back = function () {
    var prev = this.stack.pop();
    if (prev) this.load(prev.file, prev.title);
  };

  Viewer.prototype.post = function (msg) {
    if (this.frame.contentWindow) this.frame.contentWindow.postMessage(msg, "*");
  };

  Viewer.prototype.bind = function () {
    var self = this;
    if (this.note) this.note.addEventListener("click", function (e) {
      if (e.target.tagName !== "CODE") self.note.hidden = true;  // the command stays selectable
    });
    this.root.querySelectorAll("[data-act]").forEach(function (el) {
      var act = el.getAttribute("data-act");
      if (act === "heat") {
        el.addEventListener("change", function () {
          self.heat = el.checked;
          self.post({ xl: "heat", on: self.heat });
          var legend = document.getElementById("xl-heat-legend");
          var any = viewers.some(function (v) { return v.heat; });
          if (legend) legend.hidden = !any;
        });
        return;
      }
      el.addEventListener("click", function () {
        if (act === "in") self.post({ xl: "zoom", f: 1.4 });
        else if (act === "out") self.post({ xl: "zoom", f: 1 / 1.4 });
        else if (act === "fit") self.post({ xl: "fit" });
        else if (act === "back") self.back();
      });
    });
  };

  Viewer.prototype.message = function (m) {
    if (m.xl === "open") this.open(m.href, m.title, m.deferred);
    else if (m.xl === "back") this.back();
    else if (m.xl === "ready") {
      this.root.setAttribute("data-ready", this.file);
      if (this.heat) this.post({ xl: "heat", on: true });
    }
  };

  window.addEventListener("message", function (e) {
    var m = e.data;
    if (!m || typeof m !== "object" || !m.xl) return;
    for (var i = 0; i < viewers.length; i++) {
      if (viewers[i].frame.contentWindow === e.source) { viewers[i].message(m); return; }
    }
  });

  // -- search: svg/index.js is loaded on first use -----------------------------
  function initSearch() {
    var box = document.getElementById("xl-search"), hits = document.getElementById("xl-hits");
    if (!box || !hits) return;
    var loading = false, timer = null;
    // svg/index.js stores rows compactly (see _report.build_html): a name equal
    // to the id's last part is "", and the view file is an index into "files".
    function expand(idx) {
      if (idx.expanded) return;
      for (var i = 0; i < idx.rows.length; i++) {
        var r = idx.rows[i];
        if (!r[2]) r[2] = r[1].slice(r[1].lastIndexOf("/") + 1);
        if (typeof r[5] === "number") r[5] = idx.files[r[5]];
      }
      idx.expanded = true;
    }
    function ensure(then) {
      if (window.xlalensIndex) { expand(window.xlalensIndex); then(); return; }
      if (loading) return;
      loading = true;
      var s = document.createElement("script");
      s.src = box.getAttribute("data-index");
      s.onload = function () { expand(window.xlalensIndex); then(); };
      s.onerror = function () { hits.textContent = "no search index (svg/index.js) in this folder"; hits.hidden = false; };
      document.head.appendChild(s);
    }
    function find(q) {
      var idx = window.xlalensIndex, out = [];
      if (!idx || !q) return out;
      q = q.toLowerCase();
      for (var i = 0; i < idx.rows.length && out.length < 30; i++) {
        var r = idx.rows[i]; // [card, node id, name, op, file:line, view file]
        if (r[2].toLowerCase().indexOf(q) >= 0 || r[3].toLowerCase() === q || r[4].toLowerCase().indexOf(q) >= 0) out.push(r);
      }
      return out;
    }
    function go(r) {
      var v = document.getElementById("card-" + r[0]);
      var viewer = v && viewers.filter(function (x) { return x.root === v; })[0];
      if (!viewer) return;
      viewer.stack.push({ file: viewer.file, title: viewer.title });
      // r[6]: the kernel or group that stands for the node there (its body not drawn)
      viewer.load(viewer.dir() + r[5], r[2], "n:" + (r[6] || r[1]));
      viewer.root.scrollIntoView({ block: "center" });
      hits.hidden = true;
    }
    function update() {
      ensure(function () {
        var rows = find(box.value.trim()), idx = window.xlalensIndex;
        hits.innerHTML = "";
        if (!box.value.trim()) { hits.hidden = true; return; }
        if (!rows.length) { hits.textContent = "no node matches"; hits.hidden = false; return; }
        rows.forEach(function (r) {
          var a = document.createElement("button");
          a.type = "button";
          a.className = "xl-hit";
          a.textContent = r[2] + "  \u00b7  " + r[3] + (r[4] ? "  \u00b7  " + r[4] : "") + "  \u2014  " + idx.cards[r[0]];
          a.addEventListener("click", function () { go(r); });
          hits.appendChild(a);
        });
        hits.hidden = false;
      });
    }
    box.addEventListener("focus", function () { ensure(function () {}); });
    box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 120); });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { var first = hits.querySelector(".xl-hit"); if (first) first.click(); else update(); }
      if (e.key === "Escape") hits.hidden = true;
    });
  }

  // Charts (summary, roofline, timeline): one tooltip for every element with
  // data-tip (the SVG <title> beside it serves the SVG opened alone).
  function initCharts() {
    var tip = document.createElement("div");
    tip.id = "xl-tip";
    tip.hidden = true;
    document.body.appendChild(tip);
    document.addEventListener("mouseover", function (e) {
      var el = e.target.closest ? e.target.closest("[data-tip]") : null;
      if (!el) { tip.hidden = true; return; }
      tip.textContent = el.getAttribute("data-tip");
      tip.hidden = false;
    });
    document.addEventListener("mousemove", function (e) {
      if (tip.hidden) return;
      var x = Math.min(e.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
      tip.style.left = Math.max(x, 4) + "px";
      tip.style.top = (e.clientY + 16) + "px";
    });
    // Roofline: show one frontend's kernels, or all.
    document.querySelectorAll(".xl-filter").forEach(function (bar) {
      bar.addEventListener("click", function (e) {
        var b = e.target.closest("button");
        if (!b) return;
        var fe = b.getAttribute("data-fe");
        bar.querySelectorAll("button").forEach(function (x) { x.classList.toggle("xl-on", x === b); });
        bar.parentNode.querySelectorAll(".xl-pt").forEach(function (pt) {
          pt.style.display = (!fe || pt.getAttribute("data-fe") === fe) ? "" : "none";
        });
      });
    });
    // Matrix cell: go to its diff card, mark it, and load its view at once.
    document.querySelectorAll("a.xl-cell").forEach(function (a) {
      a.addEventListener("click", function (e) {
        var card = document.getElementById(a.getAttribute("data-diff"));
        if (!card) return;
        e.preventDefault();
        document.querySelectorAll(".xl-card.xl-picked").forEach(function (c) { c.classList.remove("xl-picked"); });
        card.classList.add("xl-picked");
        var frame = card.querySelector("iframe.xl-frame");
        if (frame && !frame.getAttribute("src")) frame.setAttribute("src", frame.getAttribute("data-src"));
        card.scrollIntoView({ block: "start" });
        if (history.replaceState) history.replaceState(null, "", "#" + card.id);
      });
    });
  }

  function init() {
    document.querySelectorAll(".xl-viewer").forEach(function (el) { viewers.push(new Viewer(el)); });
    window.xlalensViewers = viewers;
    initSearch();
    initCharts();
  }
  // The script is the last element of the body: the cards exist already, and
  // listening at once catches the first "ready" of each frame.
  init();
})();
