// A table wider than the screen scrolls in its own box (Material's .md-typeset__scrollwrap, or a
// notebook's output cell). Keyboard readers must be able to scroll it too, so a box that does
// overflow becomes a focusable, named region; one that fits stays out of the Tab order.
// Long generated blocks are not laid out until the reader nears them (content-visibility: auto
// in site.css), so a box there cannot be measured without undoing that. Until it is drawn it is
// taken to scroll: a keyboard reader who tabs straight to it must find a stop, not skip it. Once
// drawn, it is measured like any other.
(() => {
  "use strict";
  const BOXES = ".md-typeset__scrollwrap, .jupyter-wrapper .jp-RenderedHTML";

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

  // Not drawn yet: shown, but skipped by content-visibility (checkVisibility reads style only).
  const undrawn = (box) => {
    const table = box.querySelector("table");
    return table.checkVisibility() && !table.checkVisibility({ contentVisibilityAuto: true });
  };

  // All reads, then all writes: reading a box's size after another box's attributes changed
  // would force a fresh layout of the whole page once per table.
  function update(boxes) {
    const wide = boxes.map((box) => undrawn(box) || box.scrollWidth > box.clientWidth + 1);
    boxes.forEach((box, i) => {
      if (wide[i] === (box.getAttribute("role") === "region")) return;
      if (!wide[i] && box === document.activeElement) {
        // Focus stays where the reader put it; the stop goes when they move on.
        box.addEventListener("blur", () => update([box]), { once: true });
        return;
      }
      if (wide[i]) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) box.setAttribute("aria-label", label(box, taken));
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
      }
    });
  }

  // Its first report covers every box observed: that is the first look, too.
  const resized = new ResizeObserver((entries) => update(entries.map((e) => e.target)));

  // A block just drawn: measure its boxes now that they have a size.
  document.addEventListener(
    "contentvisibilityautostatechange",
    (event) => {
      if (event.skipped) return;
      const inside = [...event.target.querySelectorAll(BOXES)];
      const boxes = event.target.matches(BOXES) ? [event.target, ...inside] : inside;
      const tables = boxes.filter((box) => box.querySelector("table"));
      if (tables.length) update(tables);
    },
    true, // the event does not bubble; listen as it passes down
  );

  const start = () => {
    resized.disconnect();
    taken = new Set();
    // Material wraps its tables in the same document$ tick; look once it has.
    requestAnimationFrame(() => {
      const boxes = [...document.querySelectorAll(BOXES)].filter((b) => b.querySelector("table"));
      for (const box of boxes) resized.observe(box);
      // The observer says nothing of boxes not drawn yet: they need a first look of their own.
      update(boxes.filter(undrawn));
    });
  };
  if (typeof document$ !== "undefined") document$.subscribe(start);
  else document.addEventListener("DOMContentLoaded", start);
})();
