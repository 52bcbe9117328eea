// Drives the serve page in headless Chromium and prints what it shows as one JSON line.
// Usage: node page.mjs URL OUTDIR TOKEN|- TEXT [TEXT...]
// With a TOKEN the server needs it: the script records the prompt, pastes a wrong token, then the right
// one, and reloads the page. Then each text is typed and classified in turn; the report is about the
// last one. Screenshots go to OUTDIR: page.png, and with a token token-prompt.png and token-wrong.png.
// The browser is the system's (CHROMIUM, default /usr/bin/chromium); playwright-core downloads none.
import { chromium } from "playwright-core";
import { join } from "node:path";

const [url, outDir, tokenArg, ...texts] = process.argv.slice(2);
if (!url || !outDir || !tokenArg || texts.length === 0) {
  console.error("usage: node page.mjs URL OUTDIR TOKEN|- TEXT [TEXT...]");
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
  const unauthorized = []; // the 401s, expected only before the right token is given
  page.on("console", (m) => {
    const handshake = token && m.text().includes("status of 401"); // Chromium logs each 401 it receives
    if (m.type() === "error" && !handshake) problems.push("console: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("requestfailed", (r) => problems.push("request failed: " + r.url()));
  page.on("response", (r) => {
    if (token && r.status() === 401) unauthorized.push(new URL(r.url()).pathname);
    else if (r.status() >= 400) problems.push(r.status() + " " + r.url());
  });
  const visible = (sel) => page.isVisible(sel);
  const storage = () => page.evaluate((k) => ({
    session: sessionStorage.getItem(k), localItems: localStorage.length, url: location.href,
  }), "finetune4j-token");

  await page.goto(url, { waitUntil: "load" });
  const shown = { tokenFlow: null };
  if (token) {
    // 1. No token yet: the prompt, and nothing of the model.
    await page.locator("#token-card").waitFor({ state: "visible", timeout: 10000 });
    const prompt = {
      text: await page.textContent("#token-prompt"),
      focused: await page.evaluate(() => document.activeElement && document.activeElement.id),
      inputType: await page.getAttribute("#token", "type"),
      modelCardShown: await visible("#model-card"),
      classifierShown: await visible("#app"),
      errorShown: (await visible("#token-error")) || (await visible("#load-error")) || (await visible("#error")),
      bodyText: await page.innerText("body"),
    };
    await page.screenshot({ path: join(outDir, "token-prompt.png") });

    // 2. A wrong token: a plain message and the field again, and nothing is kept.
    await page.fill("#token", token + "-wrong");
    await page.click("#token-form button");
    await page.locator("#token-error").waitFor({ state: "visible", timeout: 10000 });
    const wrong = {
      message: await page.textContent("#token-error"),
      fieldShown: await visible("#token"),
      fieldValue: await page.inputValue("#token"),
      modelCardShown: await visible("#model-card"),
      storage: await storage(),
    };
    await page.screenshot({ path: join(outDir, "token-wrong.png") });

    // 2b. What cannot be a token (it could not even be sent in a header) is refused before any request.
    await page.fill("#token", "two words\u00e9");
    await page.click("#token-form button");
    await page.waitForFunction(() => document.getElementById("token-error").textContent.startsWith("That is not a token"));
    wrong.notATokenMessage = await page.textContent("#token-error");

    // 3. The right token: the model card, the token kept in this tab's sessionStorage only.
    await page.fill("#token", token);
    await page.click("#token-form button");
    await page.locator("#model-facts dd").first().waitFor({ timeout: 15000 });
    const accepted = {
      tokenCardShown: await visible("#token-card"),
      modelCardShown: await visible("#model-card"),
      storage: await storage(),
    };

    // 4. A reload in the same tab needs no second paste.
    await page.reload({ waitUntil: "load" });
    await page.locator("#model-facts dd").first().waitFor({ timeout: 15000 });
    const reloaded = { tokenCardShown: await visible("#token-card"), forgetShown: await visible("#forget-token") };
    shown.tokenFlow = { prompt, wrong, accepted, reloaded, unauthorized: [...unauthorized] };
  } else {
    await page.locator("#model-facts dd").first().waitFor({ timeout: 15000 });
    shown.tokenCardShown = await visible("#token-card");
  }

  for (let i = 0; i < texts.length; i++) {
    await page.fill("#text", texts[i]);
    await page.click("#classify");
    // Done when the recent list holds this text's entry.
    await page.locator("#recent li").nth(Math.min(i, 4)).waitFor({ timeout: 30000 });
    await page.waitForFunction((n) => document.querySelectorAll("#recent li").length === n, Math.min(i + 1, 5));
  }
  await page.locator("#result").waitFor({ state: "visible", timeout: 30000 });

  Object.assign(shown, {
    label: await page.textContent("#label"),
    score: await page.textContent("#score"),
    bars: await page.locator("#bars li").allTextContents(),
    recent: await page.locator("#recent li").allTextContents(),
    facts: await page.locator("#model-facts dd").allTextContents(),
    metrics: await page.locator("#metrics tr").allTextContents(),
    error: (await page.isVisible("#error")) ? await page.textContent("#error") : null,
    unauthorizedAfterToken: unauthorized.length - (shown.tokenFlow ? shown.tokenFlow.unauthorized.length : 0),
    problems,
  });
  await page.screenshot({ path: join(outDir, "page.png"), fullPage: true });
  if (token) {
    // 5. "Forget token": back to the prompt, nothing kept in the tab.
    await page.click("#forget-token");
    await page.locator("#token-card").waitFor({ state: "visible", timeout: 10000 });
    shown.tokenFlow.forgotten = {
      modelCardShown: await visible("#model-card"), classifierShown: await visible("#app"), storage: await storage(),
    };
  }
  console.log(JSON.stringify(shown));
} finally {
  await browser.close();
}
