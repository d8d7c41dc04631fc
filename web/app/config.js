// What the gateway tells the app about this deployment (a meta tag it fills in; no inline script).
const meta = document.querySelector('meta[name="putokaz-config"]');
export const CONFIG = JSON.parse(meta ? meta.content : "{}");
