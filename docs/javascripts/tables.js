// A table or code block wider than the screen scrolls in its own box (Material's
// .md-typeset__scrollwrap, a notebook's output cell, a code block's <code>). Keyboard readers
// must be able to scroll it too, so a box that does overflow becomes a focusable, named region;
// one that fits stays out of the Tab order.
// Long generated blocks are not laid out until the reader nears them (content-visibility: auto
// in site.css), so a box there cannot be measured without undoing that. Until it is drawn it is
// taken to scroll: a keyboard reader who tabs straight to it must find a stop, not skip it. Once
// drawn, it is measured like any other.
(() => {
  "use strict";
  // Ours (scripts/table_wrap.py), not the one Material puts inside it when it starts.
  const BOXES =
    ".md-typeset__scrollwrap:not(.md-typeset__table > *), .jupyter-wrapper .jp-RenderedHTML";
  // Code blocks too: Material makes a wide one focusable, but only once its script has started,
  // on the reader's first interaction.
  const CODE = ".md-typeset pre > code";
  // The blocks site.css draws only when the reader nears them.
  const LAZY = ".md-typeset .catalogue, .jupyter-wrapper .jp-RenderedHTML";

  // A region's name must be unique on the page: the table's caption, else the heading above it.
  function label(box, taken) {
    const caption = box.querySelector("caption");
    let name = caption && caption.textContent.trim();
    if (!name) {
      const above = [...document.querySelectorAll(".md-content :is(h1, h2, h3, h4)")].filter(
        (h) => h.compareDocumentPosition(box) & Node.DOCUMENT_POSITION_FOLLOWING,
      );
      name = above.length ? above[above.length - 1].textContent.replace("¶", "").trim() : "Table";
    }
    let unique = name;
    for (let n = 2; taken.has(unique); n++) unique = `${name} (${n})`;
    taken.add(unique);
    return unique + ", scrolls sideways";
  }

  let taken = new Set();

  function mark(box, wide) {
    if (wide === (box.getAttribute("role") === "region")) return;
    if (!wide && box === document.activeElement) {
      // Focus stays where the reader put it; the stop goes when they move on.
      box.addEventListener("blur", () => update([box]), { once: true });
      return;
    }
    if (wide) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", label(box, taken));
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
    }
  }

  // All reads, then all writes: reading a box's size after another box's attributes changed
  // would force a fresh layout of the whole page once per table.
  function update(boxes) {
    const wide = boxes.map((box) => box.scrollWidth > box.clientWidth + 1);
    boxes.forEach((box, i) => mark(box, wide[i]));
  }

  // The observer reports a box once it has been laid out (its first report is the first look),
  // and says nothing of one inside a block not drawn yet. A box that is itself such a block has
  // a size while its table is not drawn: its table is watched too, whose first report comes with
  // the drawing, and the box's own reports count only while the table is drawn.
  const boxOf = new Map();
  const drawn = (box) => box.querySelector("table").checkVisibility({ contentVisibilityAuto: true });
  const resized = new ResizeObserver((entries) => {
    const boxes = new Set();
    for (const { target } of entries) {
      const box = boxOf.get(target);
      if (target !== box || !box.matches(LAZY) || drawn(box)) boxes.add(box);
    }
    update([...boxes]);
  });

  const start = () => {
    resized.disconnect();
    boxOf.clear();
    taken = new Set();
    // Material wraps its tables in the same document$ tick; look once it has.
    requestAnimationFrame(() => {
      for (const box of document.querySelectorAll(`${BOXES}, ${CODE}`)) {
        const table = box.querySelector("table");
        if (!table && !box.matches(CODE)) continue;
        for (const watched of box.matches(LAZY) ? [box, table] : [box]) {
          boxOf.set(watched, box);
          resized.observe(watched);
        }
        // Until drawn it is taken to scroll; writes only, so nothing is laid out for it.
        if (box.closest(LAZY)) mark(box, true);
      }
    });
  };
  // This page now, and each page instant navigation brings
  // (overrides/partials/material-on-demand.html).
  if (window.__onPage) window.__onPage(start);
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();
