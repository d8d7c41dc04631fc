// Preact + htm: components written as tagged templates, no build step.
import { h, render } from "./vendor/preact.js";
import htm from "./vendor/htm.js";

export const html = htm.bind(h);
export { render };
export { useState, useEffect, useLayoutEffect, useRef, useCallback, useMemo } from "./vendor/preact-hooks.js";
