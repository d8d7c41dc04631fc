// Where the keyboard goes when the screen changes: to the new screen's heading, so a keyboard or
// screen-reader user starts at its top instead of on the page's body (the control they pressed is gone).
let waiting = null;

/** Focus the first heading of `main` once it is there (screens load their data first), unless the user has
 * already moved the focus somewhere of their own in the meantime. */
export function focusHeading(within = "main") {
  waiting?.disconnect();
  const root = document.querySelector(within);
  if (!root) return;
  const idle = () => [document.body, root, null].includes(document.activeElement) || !document.activeElement?.isConnected;
  const place = () => {
    const heading = root.querySelector("h1") ?? root.querySelector("h2");
    if (!heading) return false;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus();
    return true;
  };
  if (idle()) root.focus({ preventScroll: true });
  if (place()) return;
  const observer = new MutationObserver(() => {
    if (!idle()) observer.disconnect();
    else if (place()) observer.disconnect();
  });
  waiting = observer;
  observer.observe(root, { childList: true, subtree: true });
  setTimeout(() => observer.disconnect(), 10_000);
}
