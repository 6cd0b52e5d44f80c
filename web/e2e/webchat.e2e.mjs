// End-to-end driver of the web chat widget in Debian's headless Chromium (playwright-core,
// no browser download). Run by tests/test_webchat_browser.py:
//
//   KLARTEXT_E2E_STEPS='[{"goto": "http://…/#token=…"}, {"send": "Hallo"}, …]' \
//   node web/e2e/webchat.e2e.mjs
//
// Steps: {goto: url[, state]} · {reload: true[, state]} · {send: text} · {click: button title} ·
//        {snapshot: name}. `send` and `click` wait until the coach has answered (typing
// indicator gone, a new coach message there); `goto`/`reload` wait for the widget's
// data-state (default "connected"). Prints one JSON object:
// {"ok": true, "snapshots": {name: {...}}} or {"ok": false, "error": "...", "snapshots": …}.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const steps = JSON.parse(process.env.KLARTEXT_E2E_STEPS || "[]");
const executablePath = process.env.KLARTEXT_CHROMIUM || "/usr/bin/chromium";
const screenshotDir = process.env.KLARTEXT_E2E_SCREENSHOTS || "";
const timeout = Number(process.env.KLARTEXT_E2E_TIMEOUT_MS || 90000);

const userDataDir = mkdtempSync(join(tmpdir(), "klartext-chromium-"));
const snapshots = {};
const consoleErrors = [];
let context;

async function snapshot(page) {
  return page.evaluate(() => {
    const root = document.querySelector(".klartext-chat");
    const log = root.querySelector(".kc-log");
    return {
      documentTitle: document.title,
      state: root.getAttribute("data-state"),
      status: root.querySelector(".kc-status").textContent,
      title: root.querySelector(".kc-title").textContent,
      placeholder: root.querySelector(".kc-input").getAttribute("placeholder"),
      sendLabel: root.querySelector(".kc-send").textContent,
      inputDisabled: root.querySelector(".kc-input").disabled,
      location: location.href,
      sessionId: Object.keys(sessionStorage).filter((k) => k.endsWith(".session_id"))
        .map((k) => JSON.parse(sessionStorage.getItem(k)))[0] || null,
      injected: window.__klartextInjected || null,
      foreignElements: log.querySelectorAll("img, script, iframe, b, a").length,
      strongCount: log.querySelectorAll(".kc-msg-bot strong").length,
      messages: Array.from(log.querySelectorAll(".kc-msg")).map((node) => ({
        from: node.classList.contains("kc-msg-user") ? "user" : "bot",
        text: node.querySelector(".kc-bubble").textContent,
        buttons: Array.from(node.querySelectorAll(".kc-button")).map((b) => ({
          title: b.textContent, disabled: b.disabled,
        })),
      })),
    };
  });
}

async function waitState(page, state = "connected") {
  await page.waitForSelector(`.klartext-chat[data-state="${state}"]`, { timeout });
}

async function waitAnswer(page, botsBefore) {
  await page.waitForFunction(
    (before) => {
      const log = document.querySelector(".klartext-chat .kc-log");
      const typing = document.querySelector(".klartext-chat .kc-typing");
      return log.querySelectorAll(".kc-msg-bot").length > before && typing.hidden;
    },
    botsBefore,
    { timeout },
  );
}

const countBots = (page) => page.locator(".kc-msg-bot").count();

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (msg) => { if (msg.type() === "error") consoleErrors.push(msg.text()); });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));

  let shot = 0;
  for (const step of steps) {
    if (step.goto) {
      await page.goto(step.goto, { waitUntil: "load", timeout });
      await waitState(page, step.state);
    } else if (step.reload) {
      await page.reload({ waitUntil: "load", timeout });
      await waitState(page, step.state);
    } else if (step.send !== undefined) {
      const before = await countBots(page);
      await page.getByRole("textbox").fill(step.send);
      await page.getByRole("textbox").press("Enter");
      await waitAnswer(page, before);
    } else if (step.click) {
      const before = await countBots(page);
      await page.locator(".kc-button:not([disabled])", { hasText: step.click }).last().click({ timeout });
      await waitAnswer(page, before);
    } else if (step.snapshot) {
      snapshots[step.snapshot] = await snapshot(page);
      if (screenshotDir) {
        await page.screenshot({ path: join(screenshotDir, `${++shot}-${step.snapshot}.png`), fullPage: true });
      }
    }
  }
  process.stdout.write(JSON.stringify({ ok: true, snapshots, consoleErrors }) + "\n");
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error && error.stack || error), snapshots, consoleErrors }) + "\n");
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
