// The device at rest in this browser: one IndexedDB database with two records.
//
// - "key": an AES-GCM key made by WebCrypto with extractable = false. IndexedDB keeps
//   the CryptoKey object itself; no page script (ours included) can read its bytes,
//   only ask the browser to encrypt or decrypt with it.
// - "device": what the Rust core's `save()` returned (the device's secret keys and
//   every circle's plan, log and outbox), encrypted under that key, with its nonce.
//
// So a copy of the profile's files, or a script that reads IndexedDB, gets ciphertext
// and a key handle it cannot export; a script running *in this page* while it is open
// can still ask for decryption (docs/threat-model.md, "The browser").
//
// - "version": a counter raised by every write, so a tab can keep the device open in
//   memory and read it again only when another tab wrote since.
//
// Every write replaces the record in one IndexedDB transaction: after a crash or a
// full disk the previous device is still there, never half of a new one.

const DB_NAME = "kring";
const STORE = "device";

let connection = null;

/** The database, opened once per page and kept open (opening costs milliseconds). */
function open() {
  if (!connection) {
    connection = openDatabase().catch((error) => {
      connection = null;
      throw error;
    });
  }
  return connection;
}

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => { db.close(); connection = null; };
      db.onclose = () => { connection = null; };
      resolve(db);
    };
    request.onerror = () => reject(storageError(request.error));
    request.onblocked = () => reject(storageError(new Error("blocked by another tab")));
  });
}

function storageError(cause) {
  const error = new Error(String(cause && cause.message ? cause.message : cause));
  error.kring = { kind: cause && cause.name === "QuotaExceededError" ? "StorageFull" : "Storage" };
  return error;
}

function run(db, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const store = tx.objectStore(STORE);
    let result;
    Promise.resolve(work(store)).then((r) => { result = r; }, reject);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(storageError(tx.error));
    tx.onabort = () => reject(storageError(tx.error || new Error("aborted")));
  });
}

function get(store, key) {
  return new Promise((resolve, reject) => {
    const request = store.get(key);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// Read each time, never cached: another tab may have forgotten the device (and its
// key) since.
async function wrappingKey(db) {
  const existing = await run(db, "readonly", (s) => get(s, "key"));
  if (existing) return existing;
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
    "encrypt",
    "decrypt",
  ]);
  await run(db, "readwrite", (s) => { s.put(key, "key"); });
  return key;
}

/** The version of what is stored (0: nothing yet). */
export async function version() {
  const db = await open();
  return (await run(db, "readonly", (s) => get(s, "version"))) || 0;
}

/** The stored device's bytes and version, or null when this browser has none. */
export async function load() {
  const db = await open();
  const [record, version] = await run(db, "readonly", (s) => Promise.all([get(s, "device"), get(s, "version")]));
  if (!record) return null;
  const key = await wrappingKey(db);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: record.iv }, key, record.data);
  return { bytes: new Uint8Array(plain), version: version || 0 };
}

/** Stores the device's bytes (encrypted) as `version`, replacing what was there. */
export async function save(bytes, version) {
  const db = await open();
  const key = await wrappingKey(db);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, bytes);
  await run(db, "readwrite", (s) => {
    s.put({ iv, data }, "device");
    s.put(version, "version");
  });
}

/**
 * Keeps the first screen as it was last shown (encrypted like the device), with the
 * version of the device it was made from: the app shows it at once on the next start
 * while the core loads, and only if nothing was stored since.
 */
export async function keepScreen(screen, version) {
  const db = await open();
  const key = await wrappingKey(db);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const bytes = new TextEncoder().encode(JSON.stringify(screen));
  const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, bytes);
  await run(db, "readwrite", (s) => { s.put({ iv, data, version }, "screen"); });
}

/** The kept first screen, if it was made from the device as stored now. */
export async function keptScreen() {
  try {
    const db = await open();
    const [kept, version] = await run(db, "readonly", (s) => Promise.all([get(s, "screen"), get(s, "version")]));
    if (!kept || kept.version !== version) return null;
    const key = await wrappingKey(db);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: kept.iv }, key, kept.data);
    return JSON.parse(new TextDecoder().decode(plain));
  } catch {
    return null;
  }
}

/** Forget this device: the keys, every circle, and the wrapping key. */
export async function erase() {
  const db = await open();
  await run(db, "readwrite", (s) => { s.clear(); });
}

/**
 * Runs `work` while no other tab of this app on this device runs one: each tab
 * reloads the device inside the lock, so two tabs never write over each other.
 */
export function exclusive(work) {
  if (navigator.locks) return navigator.locks.request("kring-device", work);
  return work();
}
