// Putokaz service worker: the app shell and the published questionnaires, nothing else.
// Never cached: anything with a person in it (screenings, referrals, matches, tokens). The gateway
// fills in VERSION and SHELL when it serves this file.
const VERSION = "{{VERSION}}";
const SHELL = {{SHELL}};
const SHELL_CACHE = `shell-${VERSION}`;
const QUESTIONNAIRES = "questionnaires";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("shell-") && n !== SHELL_CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  // Sign-out: the questionnaire copies go too (they hold no person, but they show what was used).
  if (event.data === "wipe") event.waitUntil(caches.delete(QUESTIONNAIRES));
});

// A UI catalogue (other than English) is not in the shell: it is kept once the screener's app fetches it.
const CATALOGUE = /\/(app\.i18n\.|i18n\/)[\w-]+\.js$/;

async function keptOnUse(request) {
  const response = await fetch(request);
  if (response.ok) await (await caches.open(SHELL_CACHE)).put(request, response.clone());
  return response;
}

function isQuestionnaire(url) {
  return url.pathname.startsWith("/api/v1/questionnaires");
}

async function networkFirst(request, cacheName) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(cacheName);
      // Keyed by URL only: the Authorization header is never stored.
      await cache.put(request.url, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request.url, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/", { ignoreVary: true })));
  } else if (url.pathname.startsWith("/app/")) {
    const miss = CATALOGUE.test(url.pathname) ? keptOnUse : (r) => fetch(r);
    event.respondWith(caches.match(request, { ignoreVary: true }).then((hit) => hit || miss(request)));
  } else if (isQuestionnaire(url)) {
    event.respondWith(networkFirst(request, QUESTIONNAIRES));
  }
});
