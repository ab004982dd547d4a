"""The viewer script every written SVG carries: pan, zoom, find, and talk to the report.

NOTE: [SVGs as files, loaded on demand]
The report (``_report``) shows each view in an ``<iframe>`` whose ``src`` is the
SVG file under ``svg/``: each SVG is stored once, next to ``report.html``, and
read only when its card scrolls into view. Chromium treats every ``file://``
document as its own origin, so the report can neither ``fetch`` the SVGs nor
reach into the frame; the two talk by ``postMessage`` only. So the SVG carries
its own small viewer: wheel zoom, drag pan, a fitted and legible first view,
``#n:<node id>`` to centre and mark a node (search), the partner highlight of
diff views, and, inside the report, clicks on drill-down links are handed to the
report (which knows which files exist and keeps the back stack). Opened on its
own, the same SVG pans and zooms and its links simply navigate.
"""

from __future__ import annotations

_SCRIPT = r"""
(function () {
  "use strict";
  var svg = document.documentElement, NS = "http://www.w3.org/1999/xlink";
  var inFrame = window.parent !== window;
  var vb = (svg.getAttribute("viewBox") || "").trim().split(/[\s,]+/).map(Number);
  if (vb.length !== 4 || !vb.every(isFinite)) vb = [0, 0, parseFloat(svg.getAttribute("width")) || 100, parseFloat(svg.getAttribute("height")) || 100];
  var home = vb.slice(), box = vb.slice();
  svg.setAttribute("width", "100%");
  svg.setAttribute("height", "100%");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.style.cursor = "grab";
  function set(b) { box = b; svg.setAttribute("viewBox", b.join(" ")); }
  function size() { return [window.innerWidth || 800, window.innerHeight || 600]; }
  // First view: the whole picture when its text stays legible (graphviz's
  // 9 pt labels at 0.9 px per unit or more), else the densest window of the
  // picture at a legible scale (labels about 10 px), top-aligned: a wide
  // overview opens on its nodes, not on the legend or an empty frame.
  var FIT = 0.9, READ = 1.15;
  function nodeCentres() {
    var out = [], g0 = svg.querySelector("g.graph"), m = g0 && g0.transform.baseVal.consolidate();
    var t = m ? m.matrix : { a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 };
    var all = svg.querySelectorAll("g.node:not(.xl-legend)");
    for (var i = 0; i < all.length; i++) {
      var b = all[i].getBBox(), x = b.x + b.width / 2, y = b.y + b.height / 2;
      out.push([t.a * x + t.c * y + t.e, t.b * x + t.d * y + t.f]);
    }
    return out;
  }
  function start() {
    var s = size(), scale = Math.min(s[0] / home[2], s[1] / home[3]);
    // Opened on its own (a tab, not a report card): the whole picture, legend
    // included; the reader zooms from there (issue 26).
    if (scale >= FIT || !inFrame) return home.slice();
    var w = s[0] / READ, h = s[1] / READ, pts = nodeCentres(), best = [home[0], home[1]], most = -1;
    for (var i = 0; i < pts.length; i++) {
      // a window whose top-left sits just above and left of this node
      var x0 = Math.max(home[0], Math.min(pts[i][0] - 60, home[0] + home[2] - w));
      var y0 = Math.max(home[1], Math.min(pts[i][1] - 40, home[1] + home[3] - h));
      var n = 0;
      for (var j = 0; j < pts.length; j++) {
        if (pts[j][0] >= x0 && pts[j][0] <= x0 + w && pts[j][1] >= y0 && pts[j][1] <= y0 + h) n++;
      }
      if (n > most || (n === most && (y0 < best[1] || (y0 === best[1] && x0 < best[0])))) { most = n; best = [x0, y0]; }
    }
    return [best[0], best[1], w, h];
  }
  function scaleOf() { var s = size(); return Math.max(box[2] / s[0], box[3] / s[1]); }
  function zoom(f, cx, cy) {
    var s = size(), k = scaleOf();
    var ox = box[0] - (s[0] * k - box[2]) / 2, oy = box[1] - (s[1] * k - box[3]) / 2;
    var px = cx === undefined ? box[0] + box[2] / 2 : ox + cx * k;
    var py = cy === undefined ? box[1] + box[3] / 2 : oy + cy * k;
    var w = box[2] / f, h = box[3] / f;
    if (w > home[2] * 4 || w < Math.min(40, home[2])) return;
    set([px - (px - box[0]) / f, py - (py - box[1]) / f, w, h]);
  }
  function find(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    var old = document.querySelectorAll(".xl-found");
    for (var i = 0; i < old.length; i++) old[i].classList.remove("xl-found");
    el.classList.add("xl-found");
    var b = el.getBBox(), s = size(), k = 1.0;
    var w = s[0] / k, h = s[1] / k;
    set([b.x + b.width / 2 - w / 2, b.y + b.height / 2 - h / 2, w, h]);
    return true;
  }
  var st = document.createElementNS("http://www.w3.org/2000/svg", "style");
  st.textContent = ".xl-found polygon,.xl-found path,.xl-found ellipse{stroke:#d40000!important;stroke-width:4px!important}" +
    ".xl-hl polygon,.xl-hl path,.xl-hl ellipse{stroke:#0a58ca!important;stroke-width:3px!important}" +
    "g.xl-group,g.xl-up{cursor:pointer}" + HEATCSS;
  svg.appendChild(st);
  var drag = null, dragged = false;
  svg.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, e.clientX, e.clientY); }, { passive: false });
  svg.addEventListener("pointerdown", function (e) { if (e.button === 0) drag = { x: e.clientX, y: e.clientY, moved: false, id: e.pointerId }; });
  svg.addEventListener("pointermove", function (e) {
    if (!drag) return;
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) { drag.moved = true; svg.style.cursor = "grabbing"; svg.setPointerCapture(drag.id); }
    drag.x = e.clientX; drag.y = e.clientY;
    var k = scaleOf();
    set([box[0] - dx * k, box[1] - dy * k, box[2], box[3]]);
  });
  function end() { if (drag && drag.moved) { dragged = true; setTimeout(function () { dragged = false; }, 0); } drag = null; svg.style.cursor = "grab"; }
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointercancel", end);
  // A view the dump did not draw (kernels' bodies, deep views: docs/render.md,
  // Lazy views): say, where the reader clicked, how to draw it.
  function later(title, href) {
    var old = svg.getElementById("xl-later");
    if (old) old.parentNode.removeChild(old);
    var dir = decodeURIComponent(location.pathname).replace(/\/[^/]*$/, "").replace(/\/svg$/, "");
    var k = scaleOf(), SVGNS = "http://www.w3.org/2000/svg";
    var g = document.createElementNS(SVGNS, "g"), r = document.createElementNS(SVGNS, "rect");
    g.setAttribute("id", "xl-later");
    // A file's views carry their own command (xlalens render FILE -o OUT.svg --all-views).
    var cmd = svg.getAttribute("data-xl-later") || ("xlalens render " + dir + " --all-views");
    // A very large file's views are drawn one at a time: {view} is the clicked one.
    var one = cmd.indexOf("{view}") >= 0;
    cmd = cmd.replace("{view}", (href || "").split("/").pop());
    var lines = ["\u201c" + title + "\u201d was not drawn yet (views are drawn on demand).",
      "To draw it" + (one ? "" : " (and every other view)") + ", run:  " + cmd,
      "then reload this page.  (click to close)"];
    r.setAttribute("x", box[0] + 10 * k); r.setAttribute("y", box[1] + 10 * k);
    r.setAttribute("width", 640 * k); r.setAttribute("height", (lines.length * 20 + 14) * k);
    r.setAttribute("fill", "#fff4d6"); r.setAttribute("stroke", "#e8c66a");
    g.appendChild(r);
    lines.forEach(function (t, i) {
      var x = document.createElementNS(SVGNS, "text");
      x.setAttribute("x", box[0] + 20 * k); x.setAttribute("y", box[1] + (30 + 20 * i) * k);
      x.setAttribute("font-size", 14 * k); x.setAttribute("font-family", "Helvetica,sans-Serif");
      x.setAttribute("fill", "#5c4300");
      x.textContent = t;
      g.appendChild(x);
    });
    g.addEventListener("click", function (e) { e.stopPropagation(); g.parentNode.removeChild(g); });
    svg.appendChild(g);
  }
  svg.addEventListener("click", function (e) {
    var a = e.target.closest("a");
    if (dragged) { if (a) e.preventDefault(); return; }
    if (!a) return;
    var href = a.getAttributeNS(NS, "href") || a.getAttribute("href");
    if (!href) return;
    var title = (a.getAttributeNS(NS, "title") || a.getAttribute("title") || href).split("\n")[0];
    var deferred = !!e.target.closest(".xl-deferred");
    if (!inFrame) { if (deferred) { e.preventDefault(); later(title, href); } return; }
    e.preventDefault();
    var up = e.target.closest(".xl-up");
    window.parent.postMessage({ xl: up ? "back" : "open", href: href, title: title, deferred: deferred }, "*");
  });
  function partner(e, on) {
    var node = e.target.closest("g.node");
    if (!node) return;
    var cls = Array.prototype.find.call(node.classList, function (c) { return c.indexOf("xl-pair-") === 0; });
    if (!cls) return;
    var all = svg.querySelectorAll("g." + cls);
    for (var i = 0; i < all.length; i++) all[i].classList.toggle("xl-hl", on);
  }
  svg.addEventListener("mouseover", function (e) { partner(e, true); });
  svg.addEventListener("mouseout", function (e) { partner(e, false); });
  window.addEventListener("message", function (e) {
    var m = e.data || {};
    if (m.xl === "zoom") zoom(m.f);
    else if (m.xl === "fit") set(home.slice());
    else if (m.xl === "find") find(m.id);
    else if (m.xl === "heat") svg.classList.toggle("xl-heatmode", !!m.on);
    else if (m.xl === "hello" && inFrame) window.parent.postMessage({ xl: "ready", box: box.join(" ") }, "*");
  });
  window.addEventListener("resize", function () { set(start()); });
  set(start());
  var h = decodeURIComponent((location.hash || "").slice(1));
  if (h) find(h);
  if (inFrame) window.parent.postMessage({ xl: "ready", box: box.join(" ") }, "*");
})();
"""

MARK = "xlalens-viewer"


def _heat_css() -> str:
    from xlalens.render import _style

    fills = [_style.HEAT_NONE] + [c for _, c in _style.HEAT_STOPS]
    rules = [
        f".xl-heatmode g.xl-heat-{i}>polygon,.xl-heatmode g.xl-heat-{i}>path,"
        f".xl-heatmode g.xl-heat-{i}>a>polygon,.xl-heatmode g.xl-heat-{i}>g>a>polygon,"
        f".xl-heatmode g.xl-heat-{i}>g>a>path{{fill:{c}!important}}"
        for i, c in enumerate(fills)
    ]
    dark = ",".join(f".xl-heatmode g.xl-heat-{i} text" for i in range(_style.HEAT_DARK, len(fills)))
    return '"' + "".join(rules) + dark + '{fill:#fff!important}"'


def inject(svg: str) -> str:
    """``svg`` with the viewer script appended (once), so it works on its own and in the report.

    Example:
        >>> "xlalens-viewer" in inject('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
        True
    """
    if MARK in svg:
        return svg
    i = svg.rfind("</svg>")
    if i < 0:
        return svg
    script = _SCRIPT.replace("HEATCSS", _heat_css())
    tag = f'<script id="{MARK}" type="text/javascript"><![CDATA[{script}]]></script>\n'
    return svg[:i] + tag + svg[i:]
