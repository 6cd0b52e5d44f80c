// End-to-end driver of the trainer dashboard in Debian's headless Chromium (playwright-core from
// web/node_modules, no browser download). Run by tests/test_dashboard_browser.py:
//
//   KLARTEXT_E2E_STEPS='[{"goto": "http://…/webhooks/dashboard/view/<token>"}, …]' \
//   node web/dashboard/e2e/dashboard.e2e.mjs
//
// Steps: {goto: url[, state]} (state: the page's data-state to wait for, default "live"; the
// HTTP status is recorded) · {waitCount: n} (n finished role-plays shown, without reload) ·
// {focus: participant name} · {press: key} · {click: CSS selector} · {viewport: {width, height}} ·
// {download: CSS selector} (the link's download, its text recorded) · {snapshot: name} ·
// for the scenario page (scenarios.html): {fill: {CSS selector: text, …}} · {check: CSS selector}
// · {focusOn: CSS selector} · {waitFor: CSS selector} (until it is in the page).
// Prints one JSON line per snapshot as it is taken ({"snapshot": name, "data": {...}}) so the
// test can act in between, then {"ok": true} or {"ok": false, "error": "..."}.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const steps = JSON.parse(process.env.KLARTEXT_E2E_STEPS || "[]");
const executablePath = process.env.KLARTEXT_CHROMIUM || "/usr/bin/chromium";
const timeout = Number(process.env.KLARTEXT_E2E_TIMEOUT_MS || 240000);

const userDataDir = mkdtempSync(join(tmpdir(), "klartext-dashboard-"));
const consoleErrors = [];
let context;
let lastStatus = null;
let lastDownload = null;

const emit = (value) => process.stdout.write(JSON.stringify(value) + "\n");

async function snapshot(page) {
  return page.evaluate(([status, download]) => {
    const main = document.querySelector("#dashboard");
    const visible = (node) => node && !node.hidden && node.offsetParent !== null;
    const text = (selector) => (document.querySelector(selector) || {}).textContent || "";
    const scenarios = document.querySelector("#scenarios");
    if (scenarios) {
      const active = document.activeElement;
      return {
        status,
        page: "scenarios",
        documentTitle: document.title,
        state: scenarios.getAttribute("data-state"),
        heading: text("#heading"),
        own: Array.from(document.querySelectorAll("#list li[data-scenario]")).map((li) => li.textContent),
        errorsVisible: visible(document.querySelector("#errors")),
        errors: Array.from(document.querySelectorAll("#errors li")).map((li) => li.textContent),
        fieldErrors: Array.from(document.querySelectorAll(".field-error")).map((node) => ({
          field: node.getAttribute("data-error-field"),
          text: node.textContent,
          next: node.nextElementSibling ? node.nextElementSibling.id : null,
        })),
        invalid: Array.from(document.querySelectorAll('[aria-invalid="true"]')).map((node) => ({
          id: node.id,
          describedBy: node.getAttribute("aria-describedby"),
          label: (document.querySelector(`label[for="${node.id}"]`) || {}).textContent || "",
        })),
        result: text("#result"),
        resultKind: (document.querySelector("#result") || { getAttribute: () => null }).getAttribute("data-kind"),
        code: (document.querySelector("#result") || { getAttribute: () => null }).getAttribute("data-code"),
        previewVisible: visible(document.querySelector("#preview")),
        preview: Array.from(document.querySelectorAll("#preview-body p")).map((p) => p.textContent),
        versions: Array.from(document.querySelectorAll("#versions-list li")).map((li) => li.textContent),
        focused: active ? active.id || active.tagName : null,
        liveRegions: Array.from(document.querySelectorAll("[aria-live], [role=alert], [role=status]")).map((n) => n.id),
        unlabelled: Array.from(document.querySelectorAll("#form input, #form textarea, #form select"))
          .filter((node) => !document.querySelector(`label[for="${node.id}"]`)).map((node) => node.id || node.name),
        overflowX: document.documentElement.scrollWidth - window.innerWidth,
        consoleErrors: null,
      };
    }
    if (!main) {
      return { status, body: document.body.innerText, dashboard: false };
    }
    if (window.__klartextSameDocument === undefined) window.__klartextSameDocument = Date.now();
    const detail = document.querySelector("#detail");
    const active = document.activeElement;
    return {
      status,
      dashboard: true,
      sameDocument: window.__klartextSameDocument,
      documentTitle: document.title,
      state: main.getAttribute("data-state"),
      count: Number(main.getAttribute("data-count")),
      heading: text("#heading"),
      statusLine: text("#status"),
      live: text("#live"),
      csvLabel: text("#csv"),
      participants: Array.from(document.querySelectorAll(".participant")).map((b) => b.textContent),
      charts: Array.from(document.querySelectorAll("#charts figure")).map((f) => ({
        criterion: f.getAttribute("data-criterion"),
        caption: f.querySelector("figcaption").textContent,
        bars: f.querySelectorAll("svg rect.bar").length,
        hasMean: f.querySelector("svg line.mean") !== null,
        label: f.querySelector("svg").getAttribute("aria-label"),
      })),
      weakest: text("#weakest"),
      examples: document.querySelectorAll("#weakest blockquote").length,
      trendRows: Array.from(document.querySelectorAll("#trend tbody tr")).map((r) => r.textContent),
      trendPoints: document.querySelectorAll("#trend svg circle").length,
      detailVisible: visible(detail),
      overviewVisible: visible(document.querySelector("#overview")),
      detailTitle: text("#detail-title"),
      detailScores: Array.from(document.querySelectorAll("#detail-body .scores > li")).map((li) => ({
        criterion: li.getAttribute("data-criterion"),
        text: li.textContent,
        quotes: Array.from(li.querySelectorAll("blockquote p")).map((q) => q.textContent),
      })),
      focused: active ? (active.id || active.getAttribute("data-participant") || active.tagName) : null,
      announce: text("#announce"),
      overflowX: document.documentElement.scrollWidth - window.innerWidth,
      download,
    };
  }, [lastStatus, lastDownload]);
}

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    chromiumSandbox: false,
    acceptDownloads: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (msg) => { if (msg.type() === "error") consoleErrors.push(msg.text()); });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));

  for (const step of steps) {
    if (step.goto) {
      const answer = await page.goto(step.goto, { waitUntil: "load", timeout });
      lastStatus = answer ? answer.status() : null;
      if (step.state !== null) {
        await page.waitForSelector(`main[data-state="${step.state || "live"}"]`, { timeout });
      }
    } else if (step.waitCount !== undefined) {
      await page.waitForFunction(
        (n) => Number(document.querySelector("#dashboard").getAttribute("data-count")) >= n,
        step.waitCount, { timeout },
      );
    } else if (step.focus) {
      await page.locator(`.participant[data-participant="${step.focus}"]`).focus();
    } else if (step.press) {
      await page.keyboard.press(step.press);
    } else if (step.fill) {
      for (const [selector, value] of Object.entries(step.fill)) {
        await page.locator(selector).fill(value, { timeout });
      }
    } else if (step.check) {
      await page.locator(step.check).check({ timeout });
    } else if (step.focusOn) {
      await page.locator(step.focusOn).focus({ timeout });
    } else if (step.waitFor) {
      await page.waitForSelector(step.waitFor, { state: "attached", timeout });
    } else if (step.click) {
      await page.locator(step.click).click({ timeout });
    } else if (step.viewport) {
      await page.setViewportSize(step.viewport);
    } else if (step.download) {
      const [download] = await Promise.all([
        page.waitForEvent("download", { timeout }),
        page.locator(step.download).click(),
      ]);
      const path = join(userDataDir, "download.csv");
      await download.saveAs(path);
      lastDownload = { name: download.suggestedFilename(), text: readFileSync(path, "utf-8") };
    } else if (step.snapshot) {
      emit({ snapshot: step.snapshot, data: await snapshot(page) });
    }
  }
  emit({ ok: true, consoleErrors });
} catch (error) {
  emit({ ok: false, error: String((error && error.stack) || error), consoleErrors });
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
