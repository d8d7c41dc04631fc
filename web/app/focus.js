// Where the keyboard goes when the screen changes: to the new screen's heading, so a keyboard or
// screen-reader user starts at its top instead of on the page's body (the control they pressed is gone).
let waiting = null;

/** Focus the first heading of `main` once it is there (screens load their data first), unless the user has
 * already moved the focus somewhere of their own in the meantime. A screen drawn inside a frame with a heading
 * of its own (the console) marks where the screen itself is with `data-screen`: its heading is the one taken,
 * once it has arrived, not the frame's. */
export function focusHeading(within = "main") {
  waiting?.disconnect();
  const root = document.querySelector(within);
  if (!root) return;
  // The link or button that was pressed to get here is no place of the user's own: the focus leaves it for the
  // new heading once that arrives. A select or a field keeps it (arrowing through a select's years goes on).
  const pressed = document.activeElement?.matches("a, button") ? document.activeElement : null;
  const idle = () =>
    [document.body, root, null, pressed].includes(document.activeElement) || !document.activeElement?.isConnected;
  const place = () => {
    const scope = root.querySelector("[data-screen]") ?? root;
    const heading = scope.querySelector("h1") ?? scope.querySelector("h2");
    if (!heading) return false;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus();
    return true;
  };
  if (!idle()) return;
  root.focus({ preventScroll: true });
  if (place()) return;
  const observer = new MutationObserver(() => {
    if (!idle()) observer.disconnect();
    else if (place()) observer.disconnect();
  });
  waiting = observer;
  observer.observe(root, { childList: true, subtree: true });
  setTimeout(() => observer.disconnect(), 10_000);
}
