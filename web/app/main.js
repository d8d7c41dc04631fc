// The entry. On a slow network every round trip counts (Chromium's Slow 3G: 2 s each, ~50 KB/s), so the
// sign-in screen is drawn first, from this bundle alone (no UI library); the app and its libraries are
// announced at once and take over when they arrive (docs/web.md, "One file instead of twenty-five").
import { completeOidcRedirect, currentUser } from "./auth.js";
import { CONFIG } from "./config.js";
import { initialUiLanguage } from "./i18n.js";
import { paintSignInPage } from "./screens/signin.js";

/** The rest of the app's scripts (its part and libraries, the screens): fetched together, not level by level. */
function announceTheRest() {
  for (const href of CONFIG.later ?? []) {
    const link = document.createElement("link");
    link.rel = "modulepreload";
    link.href = href;
    document.head.append(link);
  }
}

async function boot() {
  await initialUiLanguage();
  try {
    await completeOidcRedirect();
  } catch (error) {
    console.warn(error.message);
  }
  const root = document.getElementById("app");
  if (!currentUser() && !location.hash.startsWith("#/offline")) paintSignInPage(root);
  announceTheRest();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  const { startApp } = await import("./app.js");
  startApp(root);
}

boot();
