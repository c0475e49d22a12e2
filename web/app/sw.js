// The service worker: the app opens offline, and a Web Push wake-up (content-free,
// as the relay sends them: docs/push.md) tells an open app to sync, or shows a
// notification that says only that something changed; the words people read are
// written on the device, after the sync.

const CACHE = "kring-app-v1";
const SHELL = [
  "./",
  "index.html",
  "app.css",
  "app.js",
  "store.js",
  "relay.js",
  "i18n.js",
  "manifest.webmanifest",
  "icons/kring.svg",
  "icons/kring-192.png",
  "pkg/kring_web.js",
  "pkg/kring_web_bg.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The app's own files: from the network when it answers (a new version), else the
// cache. The relay's API is never cached: it is signed, per request.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || url.pathname.includes("/v1/")) return;
  const shell = url.pathname.endsWith("/join") ? new Request("./") : event.request;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(shell, copy));
        }
        return response;
      })
      .catch(() => caches.match(shell, { ignoreSearch: true }).then((hit) => hit || caches.match("./"))),
  );
});

self.addEventListener("push", (event) => {
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      if (windows.length) {
        for (const w of windows) w.postMessage("kring:wake");
        return undefined;
      }
      return self.registration.showNotification("Kring", {
        body: "Er is iets nieuw in je kring. / Something new in your circle.",
        icon: "icons/kring-192.png",
        tag: "kring-wake",
      });
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow("./"));
});
