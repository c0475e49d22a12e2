// The web app's budgets, measured (issue 23; figures go to docs/benchmarks.md):
//
// 1. what a phone downloads: the app's files and the WebAssembly core, gzip and
//    brotli (budget ≤ 1.5 MB compressed);
// 2. the first screen of a two-year circle (the plan_history data set, built by
//    tests/examples/web_fixture.rs as a browser device's stored bytes) in headless
//    Chromium, phone-sized: cold (a new browser profile whose IndexedDB holds the
//    device: nothing cached, the core compiled on the spot; budget ≤ 1 s) and warm
//    (the app opened before: budget ≤ 300 ms);
// 3. a claim, from the tap to the change stored encrypted in IndexedDB (≤ 20 ms);
// 4. beside it, the same document opened by JS automerge (@automerge/automerge, the
//    implementation the anchor harness runs on) in the same browser: the part of
//    opening that is automerge's own.
//
// Run by scripts/web-bench.sh (builds the fixture, the app and the relay first).

import { spawn } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, "..", "app");
const [fixturePath, documentPath] = process.argv.slice(2);
const SAMPLES = Number(process.env.SAMPLES || 5);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function sizes() {
  let raw = 0, gz = 0, br = 0, wasmGz = 0;
  for (const path of files(app)) {
    const bytes = readFileSync(path);
    raw += bytes.length;
    const g = gzipSync(bytes, { level: 9 }).length;
    gz += g;
    br += brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    if (path.endsWith(".wasm")) wasmGz = g;
  }
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`download: ${kib(raw)} raw, ${kib(gz)} gzip (the core ${kib(wasmGz)}), ${kib(br)} brotli; budget ≤ 1,536 KiB compressed`);
}

function relay() {
  return new Promise((resolve, reject) => {
    const db = join(mkdtempSync(join(tmpdir(), "kring-bench-")), "relay.db");
    const child = spawn(join(process.env.KRING_BIN, "kring-server"), ["--listen", "127.0.0.1:0", "--db", db, "--web", app], { stdio: ["ignore", "pipe", "pipe"] });
    let seen = "";
    const onData = (d) => { seen += d; const m = seen.match(/listening on (\S+)/); if (m) resolve({ child, url: `http://${m[1]}` }); };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`relay exited ${code}: ${seen}`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `median ${median(xs)} ms (${Math.min(...xs)}–${Math.max(...xs)}, ${xs.length} runs)`;

async function profileWithDevice(browser, url, fixture) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "nl-NL" });
  const page = await context.newPage();
  // A page of the origin that is not the app, to put the device in its IndexedDB.
  await page.goto(`${url}/manifest.webmanifest`);
  await page.evaluate(async (b64) => {
    const store = await import("/store.js");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    await store.save(bytes, 1);
  }, fixture.toString("base64"));
  return { context, page };
}

async function openApp(page, url, how) {
  if (how === "reload") await page.reload();
  else await page.goto(`${url}/`);
  await page.waitForSelector("body[data-core-screen-ms]", { timeout: 60000 });
  return page.evaluate(() => ({
    first: Number(document.body.dataset.firstScreenMs),
    core: Number(document.body.dataset.coreScreenMs),
  }));
}

async function main() {
  sizes();
  const fixture = readFileSync(fixturePath);
  const { child, url } = await relay();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  try {
    const cold = [], coldCore = [], warm = [], warmCore = [], stored = [];
    for (let i = 0; i < SAMPLES; i++) {
      const { context, page } = await profileWithDevice(browser, url, fixture);
      const first = await openApp(page, url, "goto");
      cold.push(first.first);
      coldCore.push(first.core);
      const again = await openApp(page, url, "reload");
      warm.push(again.first);
      warmCore.push(again.core);
      await page.click("nav [data-tab=tasks]");
      await page.waitForSelector("#tasks-heading", { timeout: 60000 });
      const claim = page.locator("li.task [data-action=claim]").first();
      await claim.click();
      await page.waitForFunction(() => document.body.dataset.storedMs !== undefined, null, { timeout: 60000 });
      stored.push(Number(await page.evaluate(() => document.body.dataset.storedMs)));
      await context.close();
    }
    console.log(`first screen, cold (new profile, device in IndexedDB): ${range(cold)}; budget ≤ 1,000 ms`);
    console.log(`first screen, warm (app opened before; the kept screen): ${range(warm)}; budget ≤ 300 ms`);
    console.log(`  the screen from the opened device: cold ${range(coldCore)}, warm ${range(warmCore)}`);
    console.log(`a claim, tap to stored in IndexedDB: ${range(stored)}; budget ≤ 20 ms`);
    if (documentPath) await anchor(browser, url, readFileSync(documentPath));
  } finally {
    await browser.close();
    child.kill("SIGKILL");
  }
}

/** The same document loaded by JS automerge in the same browser. */
async function anchor(browser, url, document) {
  const root = join(here, "node_modules", "@automerge", "automerge");
  const context = await browser.newContext();
  // Serve the npm package's browser build at /anchor/ on the relay's origin.
  await context.route(`${url}/anchor/**`, (route) => {
    const path = join(root, new URL(route.request().url()).pathname.replace(/^\/anchor\//, ""));
    const type = path.endsWith(".wasm") ? "application/wasm" : "text/javascript";
    route.fulfill({ status: 200, contentType: type, body: readFileSync(path) });
  });
  const page = await context.newPage();
  await page.goto(`${url}/manifest.webmanifest`);
  const times = await page.evaluate(async ({ b64, samples }) => {
    const Automerge = await import("/anchor/dist/mjs/entrypoints/fullfat_base64.js");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const out = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      const doc = Automerge.load(bytes);
      Automerge.toJS(doc);
      out.push(Math.round(performance.now() - t));
    }
    return out;
  }, { b64: document.toString("base64"), samples: SAMPLES });
  console.log(`anchor: JS automerge loads the same document (${(document.length / 1024).toFixed(0)} KiB) and reads it whole: ${range(times)}`);
  await context.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
