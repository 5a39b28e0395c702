// Lighthouse 12 (mobile, its default profile) on many URLs, several runs each, in one Node
// process with one Chromium: scripts/bench.py calls it (`make bench`), so starting Node and the
// browser is paid once, not once per run. Prints one JSON object per run on stdout.
//
// usage: node scripts/lighthouse_runs.mjs RUNS URL [URL ...]
// (CHROME_PATH names the browser, CHROMIUM_ARGS its flags as a JSON list)
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const [runs, ...urls] = process.argv.slice(2);
// Chromium's quiet flags come from scripts/chromium.py (bench.py passes them), so they are
// kept in one place.
const flags = JSON.parse(process.env.CHROMIUM_ARGS || "[]");
const categories = ["performance", "accessibility", "best-practices", "seo"];
const chrome = await chromeLauncher.launch({ chromeFlags: flags });
try {
  for (let run = 0; run < Number(runs); run++) {
    for (const url of urls) {
      const result = await lighthouse(url, {
        port: chrome.port,
        output: "json",
        logLevel: "error",
        onlyCategories: categories,
        disableFullPageScreenshot: true, // a picture for the report; no score uses it
      });
      const lhr = result.lhr;
      const audits = lhr.audits;
      const failed = [];
      for (const id of categories) {
        for (const ref of lhr.categories[id].auditRefs) {
          const audit = audits[ref.id];
          if (id !== "performance" && ref.weight > 0 && audit.score !== null && audit.score < 1) {
            failed.push(`${id}:${ref.id}`);
          }
        }
      }
      const scores = Object.fromEntries(
        categories.map((id) => [id, Math.round(lhr.categories[id].score * 100)]),
      );
      console.log(
        JSON.stringify({
          url,
          run,
          ...scores,
          fcp: audits["first-contentful-paint"].numericValue,
          lcp: audits["largest-contentful-paint"].numericValue,
          tbt: audits["total-blocking-time"].numericValue,
          cls: audits["cumulative-layout-shift"].numericValue,
          failed,
          errors: lhr.runtimeError ? [lhr.runtimeError.message] : [],
        }),
      );
    }
  }
} finally {
  await chrome.kill();
}
