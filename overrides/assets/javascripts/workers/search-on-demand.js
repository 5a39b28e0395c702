// Material's search worker, fetched on the reader's first search instead of on every page
// load (it is 12 KB gzip that no reader needs before they search). Until then this stub keeps
// the index Material sends at startup (SETUP, type 0) and answers READY (type 1); the first
// QUERY (type 2) that asks for something loads the real worker beside it, replays SETUP, waits for its READY, then
// passes that query and every later message straight through. overrides/main.html points
// Material's config here, with the real worker's file name as ?worker=.
(() => {
  "use strict";
  const name = new URL(self.location.href).searchParams.get("worker") || "";
  if (!/^search\.[0-9a-f]+\.min\.js$/.test(name)) throw new Error("bad worker name: " + name);
  const post = self.postMessage.bind(self);
  let setup = null;
  let state = "idle"; // idle -> loading -> ready
  let replaying = false;
  const queue = [];

  const replay = (data) => {
    replaying = true;
    try {
      self.dispatchEvent(new MessageEvent("message", { data }));
    } finally {
      replaying = false;
    }
  };

  self.addEventListener("message", (event) => {
    if (state === "ready" || replaying) return; // the real worker's own listener answers
    event.stopImmediatePropagation();
    const message = event.data;
    if (message && message.type === 0) {
      setup = message;
      if (state === "idle") post({ type: 1 });
      return;
    }
    if (state === "idle" && message && message.type === 2 && !String(message.data).trim()) {
      post({ type: 3, data: { items: [] } }); // Material's empty query at startup
      return;
    }
    queue.push(message);
    if (state !== "idle") return;
    state = "loading";
    self.postMessage = (reply) => {
      if (state === "loading" && reply && reply.type === 1) {
        state = "ready"; // Material already had its READY from the stub
        self.postMessage = post;
        for (const queued of queue.splice(0)) replay(queued);
        return;
      }
      post(reply);
    };
    importScripts(name);
    if (setup) replay(setup);
  });
})();
