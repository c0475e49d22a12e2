// The app's screens. Every rule (who may claim, who wins the last place, what a
// signature or an envelope must be) is the Rust core's, compiled to WebAssembly
// (web/src); this file shows what the core says and hands it what a person does.
//
// Each action runs inside the device lock (store.exclusive): the device is read from
// IndexedDB, changed by the core, and stored again before the screen says "saved", so
// a second tab or a crash never loses or doubles a change. Changes wait in the core's
// outbox while offline and go out with the next sync.

import init, { Kring } from "./pkg/kring_web.js";
import * as store from "./store.js";
import { drive } from "./relay.js";
import { TEXTS, sentence } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);
/** The WebAssembly core, loading from the start; everything that needs it waits. */
const booted = init();
const state = { lang: localStorage.getItem("kring.lang") || (navigator.language || "nl").slice(0, 2), tab: "week", circle: null };
if (!TEXTS[state.lang]) state.lang = "nl";
const t = () => TEXTS[state.lang];

/** Parses the core's thrown JSON failure, or wraps a browser error. */
function failureOf(error) {
  if (typeof error === "string") {
    try { return JSON.parse(error); } catch { return { kind: "Internal", message: error }; }
  }
  if (error && error.kring) return { ...error.kring, message: error.message };
  return { kind: "Internal", message: String(error && error.message ? error.message : error) };
}

function say(text, kind = "info") {
  const box = $("#message");
  box.textContent = text;
  box.dataset.kind = kind;
  box.hidden = !text;
}

function sayFailure(error) {
  const failure = failureOf(error);
  say(sentence(t(), failure), "error");
  return failure;
}

// ---- the device ----------------------------------------------------------------------

/**
 * The device, open in memory while this tab holds it: read from IndexedDB again only
 * when another tab stored a newer version (or after a failed write). Call inside the
 * lock.
 */
async function openDevice() {
  await booted;
  const stored = await store.version();
  if (state.core && state.coreVersion === stored) return state.core;
  forgetOpenDevice();
  const loaded = await store.load();
  if (!loaded) return null;
  state.core = Kring.restore(loaded.bytes);
  state.coreVersion = loaded.version;
  return state.core;
}

function forgetOpenDevice() {
  if (state.core) state.core.free();
  state.core = null;
  state.coreVersion = -1;
}

/** Runs `work(core)` on the device in the lock, then stores what it changed. */
async function withDevice(work, { create = false } = {}) {
  return store.exclusive(async () => {
    let core = await openDevice();
    const existed = core !== null;
    if (!existed) {
      if (!create) return null;
      core = new Kring();
    }
    try {
      return await work(core);
    } finally {
      // A new device is kept once it is in a circle (its keys are in the log now);
      // a join refused before that leaves nothing behind.
      if (existed || JSON.parse(core.circles()).length) {
        const next = (await store.version()) + 1;
        try {
          await store.save(core.save(), next);
          state.core = core;
          state.coreVersion = next;
        } catch (error) {
          // What is in memory is not what is stored: read it again next time.
          if (state.core !== core) core.free();
          forgetOpenDevice();
          throw error;
        }
      } else {
        core.free();
      }
    }
  });
}

async function circles() {
  return store.exclusive(async () => {
    const core = await openDevice();
    if (!core) return { list: [] };
    const list = JSON.parse(core.circles());
    const circle = state.circle && list.find((c) => c.circle === state.circle) ? state.circle : list[0] && list[0].circle;
    const joined = list.find((c) => c.circle === circle);
    const screen = joined && joined.name !== null
      ? JSON.parse(core.screen(circle, state.tab, Date.now(), state.lang))
      : null;
    return { list, circle, joined, screen };
  });
}

// ---- actions ---------------------------------------------------------------------------

async function join(form) {
  const link = form.link.value;
  const name = form.name.value;
  const relation = form.relation.value;
  say("");
  setStatus(t().joining);
  try {
    const done = await withDevice((core) => drive(core, core.begin_join(link, name, relation, Date.now())), { create: true });
    state.circle = done.circle;
    history.replaceState(null, "", location.pathname.replace(/\/join$/, "/"));
    say(done.report.joined ? "" : t().joinedWaiting);
  } catch (error) {
    sayFailure(error);
  }
  await render();
}

async function sync() {
  if (!state.circle) return;
  if (!navigator.onLine) {
    state.unreachable = true;
    await render();
    return;
  }
  setStatus(t().syncing);
  try {
    await withDevice((core) => drive(core, core.begin_sync(state.circle, Date.now())));
    state.unreachable = false;
  } catch (error) {
    const failure = failureOf(error);
    state.unreachable = failure.kind === "Unreachable";
    if (!state.unreachable) sayFailure(error);
  }
  await render();
}

/** A plan operation by this person; stored at once, sent with the next sync. */
async function act(operation) {
  try {
    const started = performance.now();
    await withDevice((core) => operation(core, state.circle, Date.now()));
    // For the benchmark: from the tap to the change stored (encrypted, in IndexedDB).
    document.body.dataset.storedMs = String(Math.round(performance.now() - started));
    say(t().saved);
  } catch (error) {
    sayFailure(error);
  }
  await render();
  sync();
}

async function forget() {
  if (!confirm(t().forgetConfirm)) return;
  await store.exclusive(async () => {
    forgetOpenDevice();
    await store.erase();
  });
  state.circle = null;
  say(t().forgotten);
  await render();
}

// ---- screens ---------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function setStatus(text) {
  $("#status").textContent = text;
}

/** What the link in the address (or pasted) is, from the core; null if it does not read. */
async function previewOf(link) {
  if (!link.trim()) return null;
  await booted;
  const core = new Kring();
  try {
    return JSON.parse(core.preview(link, Date.now()));
  } catch {
    return null;
  } finally {
    core.free();
  }
}

function joinScreen(preview) {
  const fragment = decodeURIComponent(location.hash.slice(1));
  const linked = preview && preview.device_link;
  const intro = preview && preview.circle_name
    ? t().invitedBy(preview.inviter_name || "", preview.circle_name)
    : t().joinIntro;
  const form = el("form", { id: "join", on: { submit: (e) => { e.preventDefault(); join(e.target); } } },
    el("h2", {}, linked ? t().linkTitle : t().joinTitle),
    el("p", {}, linked ? t().linkIntro : intro),
    preview && preview.expired ? el("p", { class: "warning" }, t().errors.InviteExpired) : "",
    el("label", { for: "link" }, t().inviteLink),
    el("textarea", { id: "link", name: "link", rows: 3, required: true, autocomplete: "off", spellcheck: "false",
      on: { change: () => render() } }, fragment),
    linked ? el("input", { type: "hidden", name: "name", value: "" }) : [
      el("label", { for: "name" }, t().yourName),
      el("input", { id: "name", name: "name", required: true, autocomplete: "name", maxlength: 80 }),
      el("label", { for: "relation" }, t().relation),
      el("select", { id: "relation", name: "relation" },
        Object.entries(t().relations).map(([value, label]) => el("option", { value }, label))),
    ],
    linked ? el("input", { type: "hidden", name: "relation", value: "other" }) : "",
    el("button", { type: "submit" }, linked ? t().link : t().join));
  return form;
}

function button(label, action, run, secondary = false) {
  return el("button", { type: "button", class: secondary ? "secondary" : undefined, "data-action": action,
    on: { click: () => act(run) } }, label);
}

function turnItem(task, turn) {
  const buttons = [];
  if (turn.mine) buttons.push(button(t().handOver, "hand-over", (c, circle, now) => c.hand_over(circle, task.id, turn.at, now), true));
  else if (turn.free > 0) buttons.push(button(t().claimTurn, "claim-turn", (c, circle, now) => c.claim_turn(circle, task.id, turn.at, now)));
  const who = turn.mine ? t().youAreOn : turn.doing.length ? `${t().doing} ${turn.doing.join(", ")}` : t().nobodyYet;
  return el("li", { class: "turn", "data-at": turn.at },
    el("strong", {}, turn.when), " ", who, turn.handed_over ? ` ${t().handedOver}` : "",
    el("div", { class: "actions" }, buttons));
}

function taskCard(task) {
  const buttons = [];
  if (!task.recurring && !task.done) {
    if (!task.claimed && task.free > 0) buttons.push(button(t().claim, "claim", (c, circle, now) => c.claim(circle, task.id, now)));
    if (task.doing_it) buttons.push(button(t().done, "done", (c, circle, now) => c.complete(circle, task.id, -1, "", now)));
    if (task.claimed) buttons.push(button(t().unclaim, "unclaim", (c, circle, now) => c.unclaim(circle, task.id, now), true));
  }
  let who;
  if (task.doing_it) who = t().youAreOn;
  else if (task.claimed) who = `${t().waitingList} ${t().doing} ${task.doing.join(", ")}`;
  else who = task.doing.length ? `${t().doing} ${task.doing.join(", ")}` : t().nobodyYet;
  return el("li", { class: "task", "data-task": task.id },
    el("h3", {}, task.title),
    el("p", { class: "when" }, task.when),
    task.recurring ? el("ul", { class: "turns", "aria-label": t().turns }, task.turns.map((turn) => turnItem(task, turn))) : [
      el("p", {}, who),
      task.done ? el("p", {}, t().isDone) : task.free > 0 ? el("p", {}, t().needsPeople(task.free)) : !task.claimed ? el("p", {}, t().taken) : "",
    ],
    el("div", { class: "actions" }, buttons));
}

function weekScreen(screen) {
  const { week } = screen;
  return el("section", { "aria-labelledby": "week-heading" },
    el("h2", { id: "week-heading" }, week.heading),
    el("p", {}, week.summary),
    el("ul", { class: "week" }, week.items.map((item) => el("li", {}, el("strong", {}, item.day), " ", item.sentence))));
}

function tasksScreen(screen) {
  const { tasks } = screen;
  return el("section", { "aria-labelledby": "tasks-heading" },
    el("h2", { id: "tasks-heading" }, t().tasks),
    tasks.length ? el("ul", { class: "tasks" }, tasks.map(taskCard)) : el("p", {}, t().noTasks));
}

function newsScreen(screen) {
  const news = state.news || [];
  return el("section", { "aria-labelledby": "news-heading" },
    el("h2", { id: "news-heading" }, t().news),
    news.length ? el("ul", { class: "news" }, news.map((n) => el("li", {}, n.text))) : el("p", {}, t().noNews),
    el("h2", { id: "reminders-heading" }, t().reminders),
    screen.reminders.length ? el("ul", { class: "reminders" }, screen.reminders.map((r) => el("li", {}, r.text))) : el("p", {}, t().noReminders));
}

function followupScreen(screen) {
  const { followup } = screen;
  if (!followup) return "";
  return el("section", { "aria-labelledby": "followup-heading" },
    el("h2", { id: "followup-heading" }, t().followup),
    followup.lines.length ? el("ul", { class: "signals" }, followup.lines.map((line) => el("li", {}, line))) : el("p", {}, t().nothingSlipping));
}

function deskScreen(screen) {
  return el("section", { "aria-labelledby": "desk-heading" },
    el("h2", { id: "desk-heading" }, t().desk),
    screen.desk.length ? el("ul", { class: "desk" }, screen.desk.map((c) => el("li", {},
      el("h3", {}, c.report.circle_name),
      c.lines.length ? el("ul", {}, c.lines.map((line) => el("li", {}, line))) : el("p", {}, t().nothingSlipping)))) : el("p", {}, t().nothingSlipping));
}

function list(title, items) {
  return [el("h3", {}, title), items.length ? el("ul", {}, items.map((text) => el("li", {}, text))) : el("p", {}, "—")];
}

function planScreen(screen) {
  const { plan } = screen;
  return el("section", { "aria-labelledby": "plan-heading" },
    el("h2", { id: "plan-heading" }, `${t().plan} (${t().status[plan.status] || plan.status})`),
    el("h3", {}, t().question), el("p", {}, plan.question || "—"),
    list(t().goals, plan.goals),
    list(t().concerns, plan.concerns),
    list(t().contingencies, plan.contingencies),
    list(t().conditions, plan.conditions),
    el("h3", {}, t().approvals), el("p", {}, plan.approved_by.length ? plan.approved_by.join(", ") : t().notApproved),
    plan.i_approved ? "" : button(t().approve, "approve", (c, circle, now) => c.approve(circle, now)));
}

function circleScreen(screen) {
  const tabs = [["week", t().week], ["tasks", t().tasks], ["plan", t().plan], ["news", t().news]];
  if (screen.follows_up) tabs.push(["followup", t().followup]);
  if (screen.follows_up && screen.desk_circles > 1) tabs.push(["desk", t().desk]);
  if (!tabs.some(([id]) => id === state.tab)) state.tab = "week";
  const nav = el("nav", { "aria-label": t().sections },
    tabs.map(([id, label]) => el("button", { type: "button", class: "tab", "data-tab": id, "aria-current": state.tab === id ? "page" : false,
      on: { click: () => { state.tab = id; if (id === "news") loadNews(); else render(); } } }, label)));
  const screens = { week: weekScreen, tasks: tasksScreen, plan: planScreen, news: newsScreen, followup: followupScreen, desk: deskScreen };
  return [nav, screens[state.tab](screen), el("button", { type: "button", id: "sync", class: "secondary", on: { click: sync } }, t().sync)];
}

function circlePicker(list) {
  const joined = list.filter((c) => c.name !== null);
  if (joined.length < 2) return "";
  return el("p", {},
    el("label", { for: "circle" }, t().circle),
    el("select", { id: "circle", on: { change: (e) => { state.circle = e.target.value; render(); } } },
      joined.map((c) => el("option", { value: c.circle, selected: c.circle === state.circle }, c.name))));
}

/** The news since last looked (remembered as seen, so stored). */
async function loadNews() {
  try {
    state.news = await withDevice((core) => JSON.parse(core.news(state.circle)));
  } catch (error) {
    sayFailure(error);
  }
  await render();
}

function statusLine(joined) {
  if (!joined) return "";
  const parts = [navigator.onLine && !state.unreachable ? t().online : t().offline];
  if (joined.unsent > 0) parts.push(t().unsent(joined.unsent));
  return parts.join(" ");
}

async function render() {
  const started = performance.now();
  let data;
  try {
    data = await circles();
  } catch (error) {
    sayFailure(error);
    data = { list: [] };
  }
  await paint(data, started);
  if (!state.coreScreenAt) {
    state.coreScreenAt = performance.now();
    document.body.dataset.coreScreenMs = String(Math.round(state.coreScreenAt));
  }
  if (data.screen && state.tab === "week" && state.coreVersion > 0) {
    store.keepScreen(data, state.coreVersion).catch(() => {});
  }
}

/** Shows `data` (what `circles` read, or the kept first screen). */
async function paint(data, started) {
  document.documentElement.lang = state.lang;
  $("#lang").value = state.lang;
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t()[node.dataset.text];
  state.circle = data.circle || null;
  const main = $("#main");
  const typed = ["link", "name", "relation"].map((id) => [id, document.getElementById(id)?.value]);
  main.replaceChildren();
  if (!data.joined || location.pathname.endsWith("/join")) {
    const link = typed[0][1] ?? decodeURIComponent(location.hash.slice(1));
    main.append(joinScreen(await previewOf(link)));
    for (const [id, value] of typed) {
      const field = document.getElementById(id);
      if (field && value !== undefined && field.type !== "hidden") field.value = value;
    }
  } else if (!data.screen) {
    main.append(el("p", {}, t().joinedWaiting), el("button", { type: "button", id: "sync", on: { click: sync } }, t().sync));
  } else {
    $("#title").textContent = data.screen.circle_name;
    main.append(circlePicker(data.list), ...circleScreen(data.screen));
  }
  if (data.list.length) main.append(el("button", { type: "button", id: "forget", class: "danger", on: { click: forget } }, t().forget));
  setStatus(statusLine(data.joined));
  document.body.dataset.ready = "true";
  // For the benchmark (web/tests/bench.mjs): when the first screen was there, and
  // what the last render took.
  if (!state.firstScreenAt) state.firstScreenAt = performance.now();
  document.body.dataset.firstScreenMs = String(Math.round(state.firstScreenAt));
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
}

// ---- start -----------------------------------------------------------------------------

async function start() {
  $("#lang").addEventListener("change", (e) => {
    state.lang = e.target.value;
    localStorage.setItem("kring.lang", state.lang);
    render();
  });
  window.addEventListener("online", sync);
  window.addEventListener("offline", render);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") sync(); });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
    navigator.serviceWorker.addEventListener("message", (e) => { if (e.data === "kring:wake") sync(); });
  }
  // The screen last shown, at once, while the core loads and opens the device.
  const kept = await store.keptScreen().catch(() => null);
  if (kept && kept.screen) await paint(kept, performance.now());
  await booted;
  await render();
  sync();
  setInterval(sync, 60000);
}

start().catch((error) => {
  say(sentence(t(), failureOf(error)), "error");
  document.body.dataset.ready = "error";
});
