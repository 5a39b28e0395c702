// A table wider than the screen scrolls in its own box (Material's .md-typeset__scrollwrap, or a
// notebook's output cell). Keyboard readers must be able to scroll it too, so a box that does
// overflow becomes a focusable, named region; one that fits stays out of the Tab order.
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

  // All reads, then all writes: reading a box's size after another box's attributes changed
  // would force a fresh layout of the whole page once per table.
  function update(boxes) {
    const wide = boxes.map((box) => box.scrollWidth > box.clientWidth + 1);
    boxes.forEach((box, i) => {
      if (wide[i] === (box.getAttribute("role") === "region")) return;
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

  const start = () => {
    resized.disconnect();
    taken = new Set();
    // Material wraps its tables in the same document$ tick; look once it has.
    requestAnimationFrame(() => {
      for (const box of document.querySelectorAll(BOXES)) {
        if (box.querySelector("table")) resized.observe(box);
      }
    });
  };
  if (typeof document$ !== "undefined") document$.subscribe(start);
  else document.addEventListener("DOMContentLoaded", start);
})();
