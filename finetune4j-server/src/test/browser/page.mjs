// Drives the serve page in headless Chromium and prints what it shows as one JSON line.
// Usage: node page.mjs URL SCREENSHOT.png TOKEN|- TEXT [TEXT...]
// Each text is typed and classified in turn; the report is about the last one.
// The browser is the system's (CHROMIUM, default /usr/bin/chromium); playwright-core downloads none.
import { chromium } from "playwright-core";

const [url, screenshot, tokenArg, ...texts] = process.argv.slice(2);
if (!url || !screenshot || !tokenArg || texts.length === 0) {
  console.error("usage: node page.mjs URL SCREENSHOT.png TOKEN|- TEXT [TEXT...]");
  process.exit(2);
}
const token = tokenArg === "-" ? null : tokenArg;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // As root (CI containers) Chromium refuses to start with its sandbox.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  const problems = [];
  page.on("console", (m) => {
    const handshake = token && m.text().includes("status of 401"); // logged by Chromium for the expected 401
    if (m.type() === "error" && !handshake) problems.push("console: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("requestfailed", (r) => problems.push("request failed: " + r.url()));
  page.on("response", (r) => {
    // Only the 401s of the token handshake are expected.
    if (r.status() >= 400 && !(token && r.status() === 401)) problems.push(r.status() + " " + r.url());
  });

  await page.goto(url, { waitUntil: "load" });
  let tokenFieldShown = false;
  if (token) {
    await page.locator("#token-card").waitFor({ state: "visible", timeout: 10000 });
    tokenFieldShown = true;
    await page.fill("#token", token);
    await page.click("#token-form button");
  }
  await page.locator("#model-facts dd").first().waitFor({ timeout: 15000 });

  for (let i = 0; i < texts.length; i++) {
    await page.fill("#text", texts[i]);
    await page.click("#classify");
    // Done when the recent list holds this text's entry.
    await page.locator("#recent li").nth(Math.min(i, 4)).waitFor({ timeout: 30000 });
    await page.waitForFunction((n) => document.querySelectorAll("#recent li").length === n, Math.min(i + 1, 5));
  }
  await page.locator("#result").waitFor({ state: "visible", timeout: 30000 });

  const shown = {
    tokenFieldShown,
    label: await page.textContent("#label"),
    score: await page.textContent("#score"),
    bars: await page.locator("#bars li").allTextContents(),
    recent: await page.locator("#recent li").allTextContents(),
    facts: await page.locator("#model-facts dd").allTextContents(),
    metrics: await page.locator("#metrics tr").allTextContents(),
    error: (await page.isVisible("#error")) ? await page.textContent("#error") : null,
    problems,
  };
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify(shown));
} finally {
  await browser.close();
}
