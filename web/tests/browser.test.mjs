// The web app in a real browser (Debian's Chromium, driven by playwright-core), served
// by a real kring-server process (`--web web/app`), in one circle with members on the
// real `kring` CLI. Nothing is mocked: the page runs the Rust core as WebAssembly,
// stores in IndexedDB, and talks to the relay over HTTP.
//
// Run by scripts/web-tests.sh (which builds the binaries and the app first), with
// KRING_BIN (the directory of `kring` and `kring-server`) and CHROMIUM set.
// Screenshots of the main screens land in web/tests/artefacts/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, "..", "app");
const artefacts = join(here, "artefacts");
const bin = process.env.KRING_BIN;
const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
assert.ok(bin, "KRING_BIN: the directory with kring and kring-server");

const scratch = mkdtempSync(join(tmpdir(), "kring-web-"));
let relay;
let url;
let browser;

/** `kring ARGS` on the device in `dir`; its standard output. */
function kring(dir, args) {
  const env = { ...process.env, KRING_DATA_DIR: join(scratch, dir) };
  delete env.KRING_NOW;
  delete env.KRING_CIRCLE;
  return execFileSync(join(bin, "kring"), args, { env, encoding: "utf8" });
}

/** The plan as the CLI member sees it (`kring show --json`). */
function planOf(dir) {
  return JSON.parse(kring(dir, ["show", "--json"]));
}

function startRelay() {
  return new Promise((resolve, reject) => {
    const child = spawn(join(bin, "kring-server"), [
      "--listen", "127.0.0.1:0", "--db", join(scratch, "relay.db"), "--web", app,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let seen = "";
    const onData = (data) => {
      seen += data;
      const match = seen.match(/listening on (\S+)/);
      if (match) resolve({ child, url: `http://${match[1]}` });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`kring-server exited (${code}): ${seen}`)));
  });
}

async function phone() {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: "nl-NL",
    // axe-core is injected as a script; the app's own CSP would refuse it.
    bypassCSP: true,
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error));
  return { context, page };
}

async function ready(page) {
  await page.waitForSelector("body[data-ready]", { timeout: 30000 });
}

async function shot(page, name) {
  await page.screenshot({ path: join(artefacts, `${name}.png`), fullPage: true });
}

/** axe-core inside the page: no serious or critical violation. */
async function accessible(page, screen) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`), [], `axe on ${screen}`);
}

async function joinAs(page, link, name) {
  await page.goto(`${url}/join#${link}`);
  await ready(page);
  await page.fill("#name", name);
  await page.selectOption("#relation", "family");
  await page.click("#join button[type=submit]");
  await page.waitForSelector("nav .tab", { timeout: 30000 });
}

async function openTasks(page) {
  await page.click("nav [data-tab=tasks]");
  await page.waitForSelector("#tasks-heading");
}

/** Waits until the page has stored the change it was asked for ("Bewaard."). */
async function saved(page) {
  await page.waitForFunction(() => /Bewaard/.test(document.querySelector("#message").textContent), null, { timeout: 30000 });
}

/** Waits until the page says it is up to date, nothing waiting to be sent. */
async function allSent(page) {
  await page.waitForFunction(() => /^Bijgewerkt$/.test(document.querySelector("#status").textContent.trim()), null, { timeout: 30000 });
}

function winnersOf(plan, title) {
  const task = plan.tasks.find((t) => t.title === title);
  return task.claims.filter((c) => c.winner).map((c) => plan.members.find((m) => m.id === c.member).display_name);
}

before(async () => {
  mkdirSync(artefacts, { recursive: true });
  ({ child: relay, url } = await startRelay());
  kring("sanne", ["circle", "create", "--name", "Kring van Sanne", "--me", "Sanne", "--relay", url]);
  kring("sanne", ["task", "add", "Boodschappen doen", "--slots", "1"]);
  kring("sanne", ["task", "add", "Naar het ziekenhuis rijden", "--slots", "1"]);
  kring("sanne", ["sync"]);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (relay) relay.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

function inviteLink() {
  const printed = kring("sanne", ["invite"]);
  const link = printed.match(/kring:\/\/invite\/\S+/);
  assert.ok(link, printed);
  return link[0];
}

test("a new user joins from the CLI's invite, claims offline, and the CLI sees the claim", async () => {
  const { context, page } = await phone();
  await joinAs(page, inviteLink(), "Jan");
  assert.equal(await page.textContent("#title"), "Kring van Sanne");
  await shot(page, "week");
  await accessible(page, "week");
  // A plain member has no follow-up screen: nobody is shamed.
  assert.equal(await page.locator("nav [data-tab=followup]").count(), 0);

  await openTasks(page);
  await context.setOffline(true);
  const card = page.locator("li.task", { hasText: "Boodschappen doen" });
  await card.locator("[data-action=claim]").click();
  await page.waitForFunction(() => /wacht/.test(document.querySelector("#status").textContent));
  assert.match(await card.textContent(), /Jij doet dit/);
  await shot(page, "tasks-offline");
  await accessible(page, "tasks");

  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await allSent(page);

  kring("sanne", ["sync"]);
  assert.deepEqual(winnersOf(planOf("sanne"), "Boodschappen doen"), ["Jan"]);

  // And back: what the CLI does reaches the browser.
  kring("sanne", ["post", "Dank je, Jan!", "--kind", "thanks"]);
  kring("sanne", ["sync"]);
  await page.click("#sync");
  await page.click("nav [data-tab=plan]");
  await page.waitForSelector("#plan-heading");
  await shot(page, "plan");
  await accessible(page, "plan");
  await context.close();
});

test("two members claim the last place offline: the browser and the CLI agree on the winner", async () => {
  const { context, page } = await phone();
  await joinAs(page, inviteLink(), "Fatima");
  kring("piet", ["join", inviteLink(), "--name", "Piet", "--relation", "neighbour"]);
  kring("piet", ["sync"]);

  await openTasks(page);
  await context.setOffline(true);
  await page.locator("li.task", { hasText: "ziekenhuis" }).locator("[data-action=claim]").click();
  await page.waitForFunction(() => /wacht/.test(document.querySelector("#status").textContent));
  const ride = planOf("piet").tasks.find((t) => t.title === "Naar het ziekenhuis rijden");
  kring("piet", ["task", "claim", ride.id.slice(0, 8)]);
  kring("piet", ["sync"]);
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await allSent(page);
  kring("piet", ["sync"]);

  const onCli = winnersOf(planOf("piet"), "Naar het ziekenhuis rijden");
  assert.equal(onCli.length, 1);
  await page.click("#sync");
  await allSent(page);
  const card = await page.locator("li.task", { hasText: "ziekenhuis" }).textContent();
  if (onCli[0] === "Fatima") assert.match(card, /Jij doet dit/);
  else assert.match(card, new RegExp(`Doet het: ${onCli[0]}`));
  await context.close();
});

test("the main person's browser, added by her device link: her plan, her approval, the follow-up", async () => {
  const { context, page } = await phone();
  const printed = kring("sanne", ["device", "link"]);
  const link = printed.match(/kring:\/\/device\/\S+/);
  assert.ok(link, printed);
  await page.goto(`${url}/join#${link[0]}`);
  await ready(page);
  assert.equal(await page.locator("#name").count(), 0, "a device link asks no name");
  await page.click("#join button[type=submit]");
  await page.waitForSelector("nav .tab", { timeout: 30000 });
  assert.equal(await page.locator("nav [data-tab=followup]").count(), 1, "she follows her circle up");
  await page.click("nav [data-tab=followup]");
  await page.waitForSelector("#followup-heading");
  await shot(page, "followup");
  await accessible(page, "followup");

  await page.click("nav [data-tab=plan]");
  await page.click("[data-action=approve]");
  await saved(page);
  await allSent(page);
  kring("sanne", ["sync"]);
  const plan = planOf("sanne");
  const sanne = plan.members.find((m) => m.display_name === "Sanne");
  assert.ok(plan.plan.approvals.some((a) => a.member === sanne.id), "her approval reached her phone");
  await context.close();
});

test("a repeating task's turns in the circle's time zone: a browser member takes one, the CLI sees it", async () => {
  const { context, page } = await phone();
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  kring("sanne", ["task", "add", "Koken bij Sanne", "--repeat", "weekly", "--on", "wed", "--at", "17:00", "--from", tomorrow, "--count", "3"]);
  kring("sanne", ["sync"]);
  await joinAs(page, inviteLink(), "Noor");
  await openTasks(page);
  const card = page.locator("li.task", { hasText: "Koken bij Sanne" });
  assert.equal(await card.locator("li.turn").count(), 3);
  assert.match(await card.locator("li.turn").first().textContent(), /woensdag .* om 17\.00 uur/);
  await card.locator("li.turn").first().locator("[data-action=claim-turn]").click();
  await saved(page);
  await allSent(page);
  assert.match(await card.locator("li.turn").first().textContent(), /Jij doet dit/);
  await shot(page, "turns");

  kring("sanne", ["sync"]);
  const task = planOf("sanne").tasks.find((t) => t.title === "Koken bij Sanne");
  const turns = JSON.parse(kring("sanne", ["task", "occurrences", task.id.slice(0, 8), "--json"]));
  assert.deepEqual(turns[0].people, ["Noor"]);
  assert.deepEqual(turns[1].people, []);
  await context.close();
});

test("news: what changed since the member last looked, in the circle's words", async () => {
  const { context, page } = await phone();
  await joinAs(page, inviteLink(), "Bram");
  await page.click("nav [data-tab=news]");
  await page.waitForSelector("#news-heading");
  kring("sanne", ["task", "add", "Gras maaien", "--slots", "1"]);
  kring("sanne", ["sync"]);
  await page.click("#sync");
  await page.waitForFunction(() => !/Bezig/.test(document.querySelector("#status").textContent));
  await page.click("nav [data-tab=news]");
  await page.waitForFunction(() => /Gras maaien/.test(document.querySelector("#main").textContent), null, { timeout: 30000 });
  await shot(page, "news");
  await accessible(page, "news");
  await context.close();
});

test("two tabs on one device: neither writes over the other's change", async () => {
  const { context, page } = await phone();
  kring("sanne", ["task", "add", "Ramen lappen", "--slots", "1"]);
  kring("sanne", ["task", "add", "Hond uitlaten", "--slots", "1"]);
  kring("sanne", ["sync"]);
  await joinAs(page, inviteLink(), "Lotte");
  const second = await context.newPage();
  await second.goto(`${url}/`);
  await ready(second);
  await openTasks(page);
  await openTasks(second);
  await context.setOffline(true);
  await page.locator("li.task", { hasText: "Ramen lappen" }).locator("[data-action=claim]").click();
  await saved(page);
  // The second tab still shows the device as it was before the first tab's claim.
  await second.locator("li.task", { hasText: "Hond uitlaten" }).locator("[data-action=claim]").click();
  await saved(second);
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await allSent(page);
  kring("sanne", ["sync"]);
  const plan = planOf("sanne");
  assert.deepEqual(winnersOf(plan, "Ramen lappen"), ["Lotte"]);
  assert.deepEqual(winnersOf(plan, "Hond uitlaten"), ["Lotte"]);
  await context.close();
});

test("installable and offline: manifest, service worker, and the plan opens with no network", async () => {
  const { context, page } = await phone();
  await joinAs(page, inviteLink(), "Els");
  const manifest = await page.evaluate(async () => (await fetch(document.querySelector("link[rel=manifest]").href)).json());
  assert.equal(manifest.display, "standalone");
  assert.ok(manifest.icons.some((i) => i.sizes === "512x512"));
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  // A page the worker controls (after the first load) opens with the network gone.
  await page.reload();
  await ready(page);
  await context.setOffline(true);
  await page.reload();
  await ready(page);
  assert.equal(await page.textContent("#title"), "Kring van Sanne");
  await page.waitForFunction(() => /Geen verbinding/.test(document.querySelector("#status").textContent), null, { timeout: 30000 });
  await shot(page, "offline-start");
  await context.close();
});

test("bad input gets a plain sentence and stores nothing", async () => {
  const { context, page } = await phone();
  const link = inviteLink();
  await page.goto(`${url}/join#${link.slice(0, link.length - 20)}`);
  await ready(page);
  await page.fill("#name", "Kees");
  await page.click("#join button[type=submit]");
  await page.waitForFunction(() => /niet compleet|Vraag om een nieuwe/.test(document.querySelector("#message").textContent), null, { timeout: 30000 });
  const stored = await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open("kring");
    open.onsuccess = () => {
      const request = open.result.transaction("device").objectStore("device").count();
      request.onsuccess = () => resolve(request.result);
    };
  }));
  assert.ok(stored <= 1, "at most the wrapping key, no device");
  assert.equal(await page.locator("nav .tab").count(), 0);
  await accessible(page, "join");
  await shot(page, "join-refused");
  await context.close();
});

test("forget this device erases the circle from the browser", async () => {
  const { context, page } = await phone();
  await joinAs(page, inviteLink(), "Ali");
  page.once("dialog", (dialog) => dialog.accept());
  await page.click("#forget");
  await page.waitForSelector("#join");
  const stored = await page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open("kring");
    open.onsuccess = () => {
      const request = open.result.transaction("device").objectStore("device").count();
      request.onsuccess = () => resolve(request.result);
    };
  }));
  assert.equal(stored, 0);
  await context.close();
});
