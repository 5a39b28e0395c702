// Progressive enhancement for <figure class="chart">. The inline static SVG *is* the chart (it
// needs no script, and it is drawn with the first paint). On a reader's first pointer, touch or
// keyboard focus on a chart we fetch the Vega runtime once and draw the interactive view over the
// static one, in the same box: the live view renders the very spec the static image was drawn
// from, at the same size, and is scaled the same way, so nothing moves (no layout shift).
// The runtime is vl-convert's bundle (Vega + vega-embed), self-hosted: no CDN.
//
// Keyboard: the chart frame is focusable; arrow keys step through the marks that have a tooltip
// (the tooltip shows, and an aria-live region reads the same values), Home/End jump, Enter opens
// the data table, Escape hides the tooltip. What-if controls below a chart are real form inputs
// bound to the chart's Vega signals.
(() => {
  "use strict";
  let runtime = null;
  const views = new Map(); // figure -> { view, theme, layout, items, index }
  const pending = new Map(); // figure -> Promise of the first render
  // Made on the first what-if input, not at load: building a number format loads the locale's
  // data, 20-85 ms of main thread on every page in a profile, for a control few pages have.
  let number = null;
  const formatNumber = (value) => (number ||= new Intl.NumberFormat("en")).format(value);

  const scheme = () =>
    document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";

  // Which static layout the page shows (a container query picks it): the live view matches it.
  function layoutOf(figure) {
    const narrow = figure.querySelector(".chart__static--narrow");
    return narrow && getComputedStyle(narrow).display !== "none" ? "narrow" : "wide";
  }

  function loadVega(url) {
    if (!runtime) {
      runtime = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = url;
        script.onload = () => resolve(window.vegaEmbed);
        script.onerror = () => {
          runtime = null; // a later interaction may try again
          reject(new Error("could not load " + url));
        };
        document.head.appendChild(script);
      });
    }
    return runtime;
  }

  // --- Tooltip: text only (never HTML), so data strings cannot inject markup -----------------
  // A field a row leaves empty is left out: Vega-Lite's tooltip reads a missing value as "null"
  // (a revenue bar's "share of revenue", a gap's count), and an empty note as "".
  const missing = (val) => val == null || val === "" || val === "null" || val === "NaN";
  const entries = (value) =>
    value !== null && typeof value === "object"
      ? Object.entries(value).filter(([, val]) => !missing(val))
      : [["", value]];

  const describe = (value) =>
    entries(value)
      .map(([key, val]) => (key ? key + ": " + val : String(val)))
      .join("; ");

  function tipOf(figure) {
    let tip = figure.querySelector(".chart__tooltip");
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "chart__tooltip";
      tip.setAttribute("aria-hidden", "true"); // the live region speaks for it
      tip.hidden = true;
      figure.appendChild(tip);
    }
    return tip;
  }

  function hideTip(figure) {
    const tip = figure.querySelector(".chart__tooltip");
    if (tip) tip.hidden = true;
  }

  // Show the tooltip near (x, y) in viewport coordinates, kept inside the viewport.
  function showTip(figure, value, x, y) {
    const tip = tipOf(figure);
    tip.replaceChildren();
    for (const [key, val] of entries(value)) {
      const row = document.createElement("div");
      if (key) {
        const b = document.createElement("b");
        b.textContent = key + ": ";
        row.appendChild(b);
      }
      row.appendChild(document.createTextNode(String(val)));
      tip.appendChild(row);
    }
    tip.hidden = false;
    const box = figure.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    const height = document.documentElement.clientHeight;
    const margin = 8;
    let left = x + 12;
    if (left + tip.offsetWidth > width - margin) left = x - 12 - tip.offsetWidth;
    left = Math.max(margin, Math.min(left, width - margin - tip.offsetWidth));
    let top = y + 12;
    if (top + tip.offsetHeight > height - margin) top = y - 12 - tip.offsetHeight;
    top = Math.max(margin, top);
    tip.style.left = left - box.left + "px";
    tip.style.top = top - box.top + "px";
  }

  function onVegaTooltip(figure) {
    return (handler, event, item, value) => {
      if (value == null || value === "") hideTip(figure);
      else showTip(figure, value, event.clientX, event.clientY);
    };
  }

  // --- Rendering -----------------------------------------------------------------------------
  function specUrl(base, theme, layout) {
    return new URL(layout === "narrow" ? theme + "-narrow.vg.json" : theme + ".vg.json", base);
  }

  function controlValue(input) {
    if (input.type === "checkbox") return input.checked;
    if (input.type === "range" || input.type === "number") return Number(input.value);
    try {
      return JSON.parse(input.value);
    } catch {
      return input.value;
    }
  }

  async function render(figure) {
    const base = new URL(figure.dataset.base, location.href);
    const embed = await loadVega(new URL("../../vega.js", base).href);
    const theme = scheme();
    const layout = layoutOf(figure);
    const response = await fetch(specUrl(base, theme, layout));
    if (!response.ok) throw new Error("no live spec for " + figure.dataset.chart);
    const spec = await response.json();
    const frame = figure.querySelector(".chart__frame");
    let live = frame.querySelector(".chart__live");
    if (!live) {
      live = document.createElement("div");
      live.className = "chart__live";
      live.setAttribute("aria-hidden", "true"); // the frame's name, description and table speak
      frame.appendChild(live);
    }
    const old = views.get(figure);
    const target = document.createElement("div");
    target.className = "chart__view";
    live.appendChild(target); // attached first, so Vega can measure the container
    // The spec is already Vega (compiled at build time): mode "vega" skips Vega-Lite entirely.
    const { view } = await embed(target, spec, {
      mode: "vega",
      // Vega's expression interpreter instead of compiling expressions with new Function(): the
      // site's Content-Security-Policy has no 'unsafe-eval' (overrides/partials/csp.html).
      ast: true,
      renderer: "svg",
      actions: false,
      defaultStyle: false, // no injected <style>: our CSS and the page's CSP stay in charge
      hover: true,
      tooltip: onVegaTooltip(figure),
    });
    for (const input of figure.querySelectorAll(".chart__controls [data-signal]")) {
      view.signal(input.dataset.signal, controlValue(input));
    }
    await view.runAsync();
    for (const child of [...live.children]) if (child !== target) child.remove();
    if (old) old.view.finalize();
    views.set(figure, { view, theme, layout, items: null, index: old ? old.index : -1 });
    figure.dataset.theme = theme;
    figure.dataset.layout = layout;
    figure.classList.add("chart--live");
  }

  function activate(figure) {
    if (!pending.has(figure)) {
      figure.dataset.state = "loading";
      const done = render(figure).then(
        () => {
          figure.dataset.state = "live";
          return true;
        },
        (err) => {
          // The static chart stays; say why the interactive one did not come.
          figure.dataset.state = "static";
          pending.delete(figure);
          console.warn("chart stays static:", err.message);
          return false;
        },
      );
      pending.set(figure, done);
    }
    return pending.get(figure);
  }

  // --- Keyboard: step through the marks that carry a tooltip ---------------------------------
  function markItems(view) {
    const found = [];
    const seen = new Set();
    (function walk(node) {
      if (!node) return;
      if (node.marktype && node.marktype !== "group" && node.role !== "axis") {
        for (const item of node.items || []) {
          if (item.tooltip == null || item.tooltip === "" || !item._svg) continue;
          const key = JSON.stringify(item.tooltip);
          if (seen.has(key)) continue; // a label repeating its bar's tooltip
          seen.add(key);
          found.push(item);
        }
        return;
      }
      for (const child of node.items || []) walk(child);
    })(view.scenegraph().root);
    const box = (item) => item._svg.getBoundingClientRect();
    const boxes = new Map(found.map((item) => [item, box(item)]));
    const left = Math.min(...found.map((item) => boxes.get(item).left));
    const right = Math.max(...found.map((item) => boxes.get(item).right));
    // A line across (nearly) the whole plot, "Break-even" say, is context: read after the data.
    const across = (item) =>
      item.mark.marktype === "rule" && boxes.get(item).width > 0.8 * (right - left);
    // Reading order: the data left to right, then top to bottom; then the lines across.
    return found.sort(
      (a, b) =>
        across(a) - across(b) ||
        Math.round(boxes.get(a).left) - Math.round(boxes.get(b).left) ||
        boxes.get(a).top - boxes.get(b).top,
    );
  }

  function focusRing(figure, rect) {
    const frame = figure.querySelector(".chart__frame");
    let ring = frame.querySelector(".chart__focus");
    if (!ring) {
      ring = document.createElement("div");
      ring.className = "chart__focus";
      ring.setAttribute("aria-hidden", "true");
      frame.appendChild(ring);
    }
    if (!rect) {
      ring.hidden = true;
      return;
    }
    const box = frame.getBoundingClientRect();
    ring.hidden = false;
    ring.style.left = rect.left - box.left - 3 + "px";
    ring.style.top = rect.top - box.top - 3 + "px";
    ring.style.width = Math.max(rect.width, 2) + 6 + "px";
    ring.style.height = Math.max(rect.height, 2) + 6 + "px";
  }

  function step(figure, where) {
    const entry = views.get(figure);
    if (!entry) return;
    if (!entry.items) entry.items = markItems(entry.view);
    const items = entry.items;
    if (!items.length) return;
    let index = entry.index;
    if (where === "first") index = 0;
    else if (where === "last") index = items.length - 1;
    else index = index < 0 ? 0 : Math.max(0, Math.min(items.length - 1, index + where));
    entry.index = index;
    const item = items[index];
    const rect = item._svg.getBoundingClientRect();
    focusRing(figure, rect);
    showTip(figure, item.tooltip, rect.right, rect.top);
    const status = figure.querySelector(".chart__status");
    if (status) status.textContent = `${describe(item.tooltip)} (${index + 1} of ${items.length})`;
  }

  const KEYS = {
    ArrowRight: 1,
    ArrowDown: 1,
    ArrowLeft: -1,
    ArrowUp: -1,
    PageDown: 5,
    PageUp: -5,
    Home: "first",
    End: "last",
  };

  function onKey(event) {
    const figure = event.currentTarget.closest("figure.chart");
    if (event.key === "Escape") {
      hideTip(figure);
      focusRing(figure, null);
      return;
    }
    if (event.key === "Enter") {
      const table = figure.querySelector(".chart__data");
      if (table) {
        event.preventDefault();
        table.open = true;
        table.querySelector("summary").focus();
      }
      return;
    }
    if (!(event.key in KEYS) || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault(); // the page does not scroll under a chart being read
    const where = KEYS[event.key];
    activate(figure).then((ok) => ok && step(figure, where));
  }

  // --- What-if controls ----------------------------------------------------------------------
  function wireControls(figure) {
    for (const input of figure.querySelectorAll(".chart__controls [data-signal]")) {
      input.disabled = false;
      const output = figure.querySelector(`output[for="${input.id}"]`);
      input.addEventListener("input", () => {
        if (output) output.textContent = formatNumber(Number(input.value));
        activate(figure).then((ok) => {
          const entry = ok && views.get(figure);
          if (!entry) return;
          entry.items = null; // marks move with the inputs
          entry.view.signal(input.dataset.signal, controlValue(input)).runAsync();
        });
      });
    }
  }

  // --- Wiring --------------------------------------------------------------------------------
  const wake = (event) => activate(event.currentTarget.closest("figure.chart"));

  function enhance(root) {
    for (const figure of root.querySelectorAll("figure.chart")) {
      if (figure.dataset.enhanced) continue;
      figure.dataset.enhanced = "1";
      const frame = figure.querySelector(".chart__frame");
      const parts = [frame, figure.querySelector(".chart__controls")].filter(Boolean);
      for (const part of parts) {
        for (const type of ["pointerenter", "touchstart", "focusin"]) {
          part.addEventListener(type, wake, { once: true, passive: true });
        }
      }
      frame.addEventListener("keydown", onKey);
      frame.addEventListener("blur", () => {
        hideTip(figure);
        focusRing(figure, null);
      });
      frame.addEventListener("pointerleave", () => hideTip(figure));
      wireControls(figure);
      resized.observe(figure);
    }
  }

  // Re-render live charts whose layout (wide/narrow) or theme no longer matches the page.
  function refresh() {
    for (const [figure, entry] of views) {
      if (!figure.isConnected) continue;
      if (entry.theme !== scheme() || entry.layout !== layoutOf(figure)) {
        hideTip(figure);
        focusRing(figure, null);
        render(figure).catch((err) => console.warn("chart stays as it was:", err.message));
      }
    }
  }
  const resized = new ResizeObserver(() => requestAnimationFrame(refresh));

  // Drop views of the page we are leaving: instant navigation swaps the content, not the page.
  function forgetDetached() {
    for (const [figure, entry] of views) {
      if (!figure.isConnected) {
        entry.view.finalize();
        views.delete(figure);
        pending.delete(figure);
        resized.unobserve(figure);
      }
    }
  }

  // Re-render live charts in the other theme when the reader flips the palette toggle.
  new MutationObserver(refresh).observe(document.body, {
    attributes: true,
    attributeFilter: ["data-md-color-scheme"],
  });

  const start = () => {
    forgetDetached();
    enhance(document);
  };
  // This page now, and each page instant navigation brings
  // (overrides/partials/material-on-demand.html).
  if (window.__onPage) window.__onPage(start);
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
