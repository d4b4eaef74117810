// The playground's browser driver, run by TestBrowser (browser_test.go):
// it opens each case's link in Debian's chromium through playwright-core
// and prints, as JSON, what the page shows. The Go test asserts on it.
//
// Usage: node browser_test.mjs SPEC.json, where SPEC is
// {chromium, baseURL, userDataDir, screenshot, cases: [{name, fragment, click}]}.
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const browser = await chromium.launchPersistentContext(spec.userDataDir, {
  executablePath: spec.chromium,
  headless: true,
  viewport: { width: 1360, height: 900 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const results = [];
try {
  for (const c of spec.cases) {
    const page = await browser.newPage();
    const errors = [];
    const requests = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(spec.baseURL + "/#" + c.fragment);
    await page.waitForFunction(() => document.body.dataset.state !== "loading", null, { timeout: 120000 });
    if (c.click) {
      const before = await page.evaluate(() => Number(document.body.dataset.evaluations || 0));
      await page.click(`button[data-sample="${c.click}"]`);
      await page.waitForFunction((n) => Number(document.body.dataset.evaluations || 0) > n, before);
    }
    const seen = await page.evaluate(() => ({
      state: document.body.dataset.state,
      status: document.getElementById("status").textContent,
      groups: document.getElementById("groups").textContent,
      problems: [...document.querySelectorAll("#problems li")].map((li) => li.textContent),
      problemsText: document.getElementById("problems").textContent,
      badLines: [...document.querySelectorAll("#rules-gutter div.bad")].map((d) => Number(d.dataset.line)),
      backdropBad: [...document.querySelectorAll("#rules-backdrop div.bad")].map((d) => d.textContent),
      matchedRules: [...document.querySelectorAll("#tree > details > summary")].map((s) => s.textContent),
      conditions: document.querySelectorAll("#tree .held, #tree .failed").length,
      hash: location.hash,
    }));
    if (c.problemClick && seen.problems.length > 0) {
      await page.click("#problems li");
      seen.selection = await page.evaluate(() => {
        const ta = document.getElementById("rules");
        return ta.value.slice(ta.selectionStart, ta.selectionEnd);
      });
    }
    if (spec.screenshot && c.screenshot) {
      await page.screenshot({ path: spec.screenshot, fullPage: false });
    }
    seen.name = c.name;
    seen.errors = errors;
    seen.foreign = requests.filter((u) => !u.startsWith(spec.baseURL + "/"));
    results.push(seen);
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results) + "\n");
