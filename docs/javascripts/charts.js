// Progressive enhancement for <figure class="chart">. The inline static SVG *is* the chart (it
// needs no script). On a reader's first pointer, touch or keyboard focus we fetch the Vega
// runtime once and draw the interactive view over the static one, in the same box. The runtime
// is vl-convert's bundle (Vega + vega-embed), self-hosted: no CDN, no Node needed to build.
(() => {
  "use strict";
  let runtime = null;
  const views = new Map();

  const scheme = () =>
    document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";

  function loadVega(url) {
    if (!runtime) {
      runtime = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = url;
        script.onload = () => resolve(window.vegaEmbed);
        script.onerror = () => reject(new Error("could not load " + url));
        document.head.appendChild(script);
      });
    }
    return runtime;
  }

  // Vega's tooltip hook: we write text only (never HTML), so data strings cannot inject markup.
  function tooltip(frame) {
    let tip = frame.querySelector(".chart__tooltip");
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "chart__tooltip";
      tip.setAttribute("role", "status");
      frame.appendChild(tip);
    }
    return (handler, event, item, value) => {
      if (value == null || value === "") {
        tip.hidden = true;
        return;
      }
      tip.replaceChildren();
      const entries = typeof value === "object" ? Object.entries(value) : [["", value]];
      for (const [key, val] of entries) {
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
      const box = frame.getBoundingClientRect();
      const x = event.clientX - box.left;
      const y = event.clientY - box.top;
      const left = Math.min(Math.max(0, x + 12), box.width - tip.offsetWidth);
      const top = y + 12 + tip.offsetHeight > box.height ? y - tip.offsetHeight - 12 : y + 12;
      tip.style.left = Math.max(0, left) + "px";
      tip.style.top = Math.max(0, top) + "px";
    };
  }

  async function render(figure) {
    const base = new URL(figure.dataset.base, location.href);
    const embed = await loadVega(new URL("../../vega.js", base).href);
    const theme = scheme();
    const response = await fetch(new URL(theme + ".vg.json", base));
    const spec = await response.json();
    const frame = figure.querySelector(".chart__frame");
    let live = frame.querySelector(".chart__live");
    if (!live) {
      live = document.createElement("div");
      live.className = "chart__live";
      live.setAttribute("aria-hidden", "true");
      frame.appendChild(live);
    }
    const old = views.get(figure);
    // The spec is already Vega (compiled at build time): mode "vega" skips Vega-Lite entirely.
    const target = document.createElement("div");
    target.className = "chart__view";
    live.appendChild(target); // attached first, so Vega can measure the container's width
    const { view } = await embed(target, spec, {
      mode: "vega",
      // Vega's expression interpreter instead of compiling expressions with new Function(): the
      // site's Content-Security-Policy has no 'unsafe-eval' (overrides/partials/csp.html).
      ast: true,
      renderer: "svg",
      actions: false,
      defaultStyle: false, // no injected <style>: our CSS and the page's CSP stay in charge
      hover: true,
      tooltip: tooltip(frame),
    });
    for (const child of [...live.children]) if (child !== target) child.remove();
    if (old) old.finalize();
    views.set(figure, view);
    figure.dataset.theme = theme;
    figure.classList.add("chart--live");
  }

  function activate(event) {
    const figure = event.currentTarget;
    if (figure.dataset.state) return;
    figure.dataset.state = "loading";
    render(figure).then(
      () => (figure.dataset.state = "live"),
      (err) => {
        // The static chart stays; say why the interactive one did not come.
        figure.dataset.state = "static";
        console.warn("chart stays static:", err.message);
      },
    );
  }

  function enhance(root) {
    for (const figure of root.querySelectorAll("figure.chart")) {
      for (const type of ["pointerenter", "touchstart", "focusin"]) {
        figure.addEventListener(type, activate, { once: true, passive: true });
      }
    }
  }

  // Drop views of the page we are leaving: instant navigation swaps the content, not the page.
  function forgetDetached() {
    for (const [figure, view] of views) {
      if (!figure.isConnected) {
        view.finalize();
        views.delete(figure);
      }
    }
  }

  // Re-render live charts in the other theme when the reader flips the palette toggle.
  new MutationObserver(() => {
    for (const figure of views.keys()) {
      if (figure.isConnected && figure.dataset.theme !== scheme()) render(figure);
    }
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  const start = () => {
    forgetDetached();
    enhance(document);
  };
  if (typeof document$ !== "undefined") document$.subscribe(start);
  else document.addEventListener("DOMContentLoaded", start);
})();
