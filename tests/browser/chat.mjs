// Two headless Chromium windows chat through the gateway, as two people would with `passerelle demo`.
//
//   node chat.mjs URL OUTDIR
//
// Opens the chat page at URL twice, each in its own browser context (own cookies and connections, like two
// browsers), reloads the second until the two pages name different replicas, sends a message from each and
// waits until the other page shows it. A page names the replica that answered its /whoami; its socket is a
// separate request that round robin may send to the other replica, which only the replicas' logs can tell
// (BrowserTests.cs checks them). Writes OUTDIR/chat.png (both pages side by side), OUTDIR/page-a.png and
// OUTDIR/page-b.png, prints one JSON line with the results, and exits 1 on failure.
import { mkdir, writeFile } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { chromium } from "playwright-core";

// Debian's package rather than a browser downloaded by Playwright: the machines reach no browser download site.
const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  // Only the page under test on the network: nothing may wait on hosts this machine cannot reach.
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const STEP_TIMEOUT_MS = 15_000;  // to connect, or for a message to show up on the other page
const OVERALL_TIMEOUT_MS = 120_000;
const MAX_LOADS = 10;            // of page B; the gateway balances round robin, so a few reloads are enough

const [url, outDir] = process.argv.slice(2);
if (!url || !outDir) {
  console.error("usage: node chat.mjs URL OUTDIR");
  process.exit(2);
}

// A hung browser must not hang the test that runs this script.
setTimeout(() => {
  console.error(`chat.mjs: FAILED: not done within ${OVERALL_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS).unref();

const result = { ok: false, url, replicas: {}, loadsOfB: 0, crossed: {}, screenshots: [] };
const chats = [];
let browser;
try {
  await mkdir(outDir, { recursive: true });
  // launch() gives the browser a fresh temporary profile, removed on close.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  const a = await openChat(browser, "A");
  chats.push(a);
  const b = await openChat(browser, "B");
  chats.push(b);
  result.loadsOfB = 1;

  // Which replica serves a page is the gateway's round robin to decide: load B again until it is not A's.
  while (b.replica === a.replica && result.loadsOfB < MAX_LOADS) {
    await b.load();
    result.loadsOfB++;
  }
  result.replicas = { A: a.replica, B: b.replica };
  if (a.replica === b.replica) {
    throw new Error(`page B stayed on ${a.replica}, like page A, after ${result.loadsOfB} loads`);
  }

  result.crossed.AtoB = await send(a, b);
  result.crossed.BtoA = await send(b, a);
  result.ok = true;
} catch (error) {
  result.error = error.message.split("\n")[0];
} finally {
  // Also on failure: a picture of the pages is the quickest way to see what went wrong.
  if (chats.length > 0) {
    try {
      result.screenshots = await screenshots(browser, chats, outDir);
    } catch (error) {
      result.ok = false;
      result.error ??= `screenshot: ${error.message.split("\n")[0]}`;
    }
  }
  await browser?.close();
}
console.log(JSON.stringify(result));
if (!result.ok) {
  console.error(`chat.mjs: FAILED: ${result.error}`);
  process.exitCode = 1;
}

/** A chat page in a browser context of its own, loaded and connected. */
async function openChat(browser, label) {
  const context = await browser.newContext({ viewport: { width: 600, height: 420 } });
  const chat = {
    label,
    page: await context.newPage(),
    replica: undefined,
    async load() {
      await chat.page.goto(url);
      chat.replica = await connected(chat);
    },
  };
  await chat.load();
  return chat;
}

/** Waits until the page says its socket is open and names its replica ("served by NAME"); returns NAME. */
async function connected({ page, label }) {
  // The page writes "connection closed (...)" when its socket fails: report that rather than a timeout.
  const status = page.locator("#log p.status", { hasText: /^(connected to |connection closed)/ }).first();
  const line = await status.innerText({ timeout: STEP_TIMEOUT_MS });
  if (!line.startsWith("connected to ")) throw new Error(`page ${label}: ${line}`);

  const header = await page.locator("#replica", { hasText: /^(served by |replica unknown)/ })
    .innerText({ timeout: STEP_TIMEOUT_MS });
  if (!header.startsWith("served by ")) throw new Error(`page ${label}: /whoami failed (${header})`);
  return header.slice("served by ".length);
}

/** Types a message into one page as a person would, and waits until the other page shows it. */
async function send(from, to) {
  // Unique, so that no other message (another run, the other direction) can be mistaken for it.
  const text = `hello from page ${from.label} (${randomUUID().slice(0, 8)})`;
  const started = Date.now();
  await from.page.locator("#message").fill(text);
  await from.page.locator("#message").press("Enter");
  try {
    await to.page.locator("#log p:not(.status)", { hasText: text }).waitFor({ timeout: STEP_TIMEOUT_MS });
  } catch {
    throw new Error(`page ${to.label} (${to.replica}) did not show the message of page ${from.label} ` +
      `(${from.replica}) within ${STEP_TIMEOUT_MS / 1000} s`);
  }
  return { text, ms: Date.now() - started };
}

/** One PNG per page, then both side by side in chat.png, composed by the browser so as to need no image library. */
async function screenshots(browser, chats, dir) {
  const files = [];
  const images = [];
  for (const chat of chats) {
    const file = path.join(dir, `page-${chat.label.toLowerCase()}.png`);
    const png = await chat.page.screenshot({ path: file });
    files.push(file);
    images.push({ caption: `page ${chat.label}: ${chat.replica ?? "?"}`, src: `data:image/png;base64,${png.toString("base64")}` });
  }

  const page = await (await browser.newContext()).newPage();
  // DOM calls rather than markup, so that a replica name is only ever text.
  await page.evaluate(images => {
    document.body.style.cssText = "margin:0;padding:8px;display:inline-flex;gap:16px;background:#999;font:14px sans-serif";
    for (const { caption, src } of images) {
      const figure = document.body.appendChild(document.createElement("figure"));
      figure.style.margin = "0";
      figure.appendChild(document.createElement("img")).src = src;
      figure.appendChild(document.createElement("figcaption")).textContent = caption;
    }
    return Promise.all([...document.images].map(image => image.decode()));
  }, images);
  const both = path.join(dir, "chat.png");
  await writeFile(both, await page.locator("body").screenshot());
  return [both, ...files];
}
