// The console's building blocks: labels, markers, CSV files, and a figure = chart + data table + CSV download.
import { html, useEffect, useRef, useState } from "../html.js";
import { CONSOLE_LANGUAGES, consoleTextsLoaded, loadConsoleTexts, t, uiLanguage } from "../i18n.js";
import uPlot from "../vendor/uplot.js";

// The console's own stylesheets (uPlot's and ours), added once: linked files, so the CSP's `style-src 'self'` holds.
const here = new URL(".", import.meta.url);
for (const href of [new URL("../vendor/uplot.css", here), new URL("console.css", here)]) {
  if (!document.querySelector(`link[href="${href}"]`)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.append(link);
  }
}

export const TOTAL = "total";

// What each marker of a protected table means, said where the marker is shown.
const MARKERS = { "<5": "console_marker_lt5", "<10": "console_marker_lt10", x: "console_marker_x" };
export const isShown = (count) => typeof count === "number";
export const markerText = (count) => t(MARKERS[count] ?? "console_marker_other");

// The console's texts are in the coordinator's office languages (en, bs, hr, sr-Latn, sr-Cyrl); in any
// other UI language `t` gives the English text, and numbers are written the English way with it.
/** The console's own language: the UI's when it is an office language, else English (marked so, so that a
 * screen reader reads it as English and an Arabic page does not mirror English text). */
export const consoleLanguage = () => (CONSOLE_LANGUAGES.includes(uiLanguage()) ? uiLanguage() : "en");
export const consoleLocale = () => (consoleLanguage() === "en" ? "en-GB" : consoleLanguage());

/** True once the console's texts in the current language are here (fetched on first use, per language);
 * an Error when they could not be fetched. */
export function useConsoleTexts() {
  const [, setFetched] = useState(0);
  const [error, setError] = useState(null);
  const language = uiLanguage();
  useEffect(() => {
    if (!consoleTextsLoaded()) loadConsoleTexts().then(() => setFetched((n) => n + 1), setError);
  }, [language]);
  return error ?? consoleTextsLoaded();
}
const known = (key) => (t(key) === key ? null : t(key));
// Time bands as catalogue keys ("<2h" → console_answer_time_under_2h).
const BANDS = { "<2h": "under_2h", "2-24h": "2_24h", "24-48h": "24_48h", ">48h": "over_48h", "<24h": "under_24h", "1-7d": "1_7d", ">7d": "over_7d" };

/** A registry code's label in the console's language: the registry's own labels (its labels.yaml, as its
 * CSV exports give them, copied into the catalogues as console_<dimension>_<code>; test_catalogues keeps
 * the two equal), a referral status as the frontline says it, else the code itself, readable. */
export function label(dimension, code) {
  const name = String(BANDS[code] ?? code).replace(/\W/g, "_");
  const text =
    known(`console_${dimension}_${name}`) ?? known(`console_common_${name}`) ?? (dimension === "status" ? known(`status_${name}`) : null);
  if (text) return text;
  const plain = String(code).replaceAll("_", " ");
  return plain.charAt(0).toUpperCase() + plain.slice(1);
}

export const dimensionName = (d) => known(`console_dim_${d}`) ?? label("", d);

export function formatCount(count) {
  return isShown(count) ? count.toLocaleString(consoleLocale()) : count;
}

export function change(now, before) {
  if (!isShown(now) || !isShown(before) || before === 0) return null;
  return Math.round((1000 * (now - before)) / before) / 10;
}

// --- CSV: exactly the rows and columns a table shows -------------------------------------------------
export function csvText(columns, rows, legend = []) {
  const quote = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n#]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [...legend.map((l) => `# ${l}`), columns.map(quote).join(","), ...rows.map((r) => r.map(quote).join(","))].join("\n") + "\n";
}

export function CsvLink({ filename, columns, rows, legend }) {
  const href = `data:text/csv;charset=utf-8,${encodeURIComponent(csvText(columns, rows, legend))}`;
  return html`<a class="button csv no-print" href=${href} download=${filename}>${t("console_download_csv")}<span class="visually-hidden"> (${filename})</span></a>`;
}

// A count as shown in a table: the number, or the marker with its meaning beside it.
export function Count({ value }) {
  if (isShown(value)) return html`<span class="count">${formatCount(value)}</span>`;
  if (value === null || value === undefined) return html`<span class="count">–</span>`;
  return html`<span class="count suppressed" data-marker=${value}
    ><abbr title=${markerText(value)}>${value}</abbr><span class="visually-hidden"> (${markerText(value)})</span></span
  >`;
}

export function Legend({ markers }) {
  const used = [...new Set(markers.filter((m) => !isShown(m) && m !== null && m !== undefined))];
  if (!used.length) return null;
  return html`<ul class="legend">
    ${used.map((m) => html`<li><span class="count suppressed">${m}</span> ${t("console_legend_hidden", { meaning: markerText(m) })}</li>`)}
  </ul>`;
}

// --- charts ------------------------------------------------------------------------------------------
const PALETTE = ["#1f4e8c", "#c0392b", "#1d6b36", "#8e44ad", "#b9770e", "#2c3e50"];

function useUplot(build, deps) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    const width = Math.max(260, Math.min(element.clientWidth || 600, 900));
    const chart = build(width, element);
    return () => chart.destroy();
  }, deps);
  return box;
}

// Bars over categories; a hidden cell gets no bar but its marker, so it is never read as zero.
export function BarChart({ categories, values, name }) {
  const box = useUplot(
    (width, element) => {
      const xs = categories.map((_, i) => i);
      const ys = values.map((v) => (isShown(v) ? v : null));
      // Many categories or long names ("Sexual exploitation") would overlap side by side.
      const slanted = categories.length > 5 || categories.some((c) => String(c).length > 12);
      const markerHook = (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = "#a1142a";
        ctx.font = `${Math.round(12 * devicePixelRatio)}px system-ui, sans-serif`;
        ctx.textAlign = "center";
        values.forEach((v, i) => {
          if (isShown(v)) return;
          const x = u.valToPos(i, "x", true);
          const y = u.valToPos(0, "y", true) - 6 * devicePixelRatio;
          ctx.fillText(String(v ?? "–"), x, y);
        });
        ctx.restore();
      };
      return new uPlot(
        {
          width,
          height: 220,
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: false, range: [-0.5, categories.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(5, max * 1.1)] } },
          axes: [
            {
              values: (u, splits) => splits.map((i) => (Number.isInteger(i) && categories[i] !== undefined ? categories[i] : "")),
              splits: () => xs,
              rotate: slanted ? -30 : 0,
              size: slanted ? 90 : 40,
            },
            {},
          ],
          series: [{}, { label: name, fill: "#1f4e8c", stroke: "#1f4e8c", paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false } }],
          hooks: { draw: [markerHook] },
        },
        [xs, ys],
        element,
      );
    },
    [JSON.stringify(categories), JSON.stringify(values)],
  );
  return html`<div class="chart" ref=${box} aria-hidden="true"></div>`;
}

// Lines over periods, one per series; hidden points are gaps.
export function LineChart({ periods, series }) {
  const box = useUplot(
    (width, element) => {
      const xs = periods.map((_, i) => i);
      return new uPlot(
        {
          width,
          height: 220,
          cursor: { show: false },
          legend: { show: true, live: false },
          scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(5, max * 1.1)] } },
          axes: [{ values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? periods[i] ?? "" : "")), splits: () => xs, rotate: periods.length > 8 ? -45 : 0, size: periods.length > 8 ? 60 : 40 }, {}],
          series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: PALETTE[i % PALETTE.length], width: 2 }))],
        },
        [xs, ...series.map((s) => s.values.map((v) => (isShown(v) ? v : null)))],
        element,
      );
    },
    [JSON.stringify(periods), JSON.stringify(series)],
  );
  return html`<div class="chart" ref=${box} aria-hidden="true"></div>`;
}

// A figure: title, chart, the same figures as a table (the accessible alternative), and their CSV.
// `rows`: [{key, label, values: [..]}], one value per column of `columns`.
export function Figure({ id, title, note, chart, dimension, columns, rows, filename, legend = [] }) {
  const markers = rows.flatMap((r) => r.values);
  return html`<figure class="figure card" id=${id} aria-labelledby=${`${id}-title`}>
    <figcaption><h3 id=${`${id}-title`}>${title}</h3>${note && html`<p class="hint">${note}</p>`}</figcaption>
    ${chart}
    <div class="table-wrap">
      <table class="data">
        <caption class="visually-hidden">${title}</caption>
        <thead>
          <tr>
            <th scope="col">${dimensionName(dimension)}</th>
            ${columns.map((c) => html`<th scope="col">${c}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) => html`<tr data-key=${r.key} class=${r.key === TOTAL ? "total" : ""}>
              <th scope="row">${r.label}</th>
              ${r.values.map((v) => html`<td><${Count} value=${v} /></td>`)}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <${TableNotes} columns=${[dimension, `${dimension}_label`, ...columns]} rows=${rows.map((r) => [r.key, r.label, ...r.values])}
      markers=${markers} filename=${filename} title=${title} legend=${legend} />
  </figure>`;
}

// Under a figure's table: what its hidden-cell markers mean, and its figures as CSV with the title,
// the legend lines and the meaning of each marker used written above them.
export function TableNotes({ columns, rows, markers, filename, title, legend }) {
  const used = [...new Set(markers.filter((m) => !isShown(m) && m != null))];
  return html`<${Legend} markers=${markers} />
    <${CsvLink} filename=${filename} columns=${columns} rows=${rows} legend=${[title, ...legend, ...used.map((m) => `${m}: ${markerText(m)}`)]} />`;
}

export function Loading() {
  return html`<p role="status">${t("loading")}</p>`;
}

export function Problem({ error }) {
  return html`<p class="error card" role="alert">${error?.message ?? String(error)}</p>`;
}

// --- the map: municipality polygons of the public-domain boundary file (bih-map.json, see
// web/console_map.py), each filled with the value of its entity or canton --------------------------
let mapData = null;
const loadMap = () => (mapData ??= fetch(new URL("bih-map.json", import.meta.url)).then((r) => r.json()));
const SHADES = ["#dbe6f4", "#a9c3e4", "#6f9bd1", "#3a6fb0", "#1f4e8c"];

function useMap() {
  const [data, setData] = useState(null);
  useEffect(() => {
    loadMap().then(setData).catch(() => setData(false));
  }, []);
  return data;
}

// `values`: {code: count or marker}; `dimension`: "entity" or "canton" (municipalities outside the
// Federation have no canton and are drawn grey on the canton map).
export function BihMap({ dimension, values }) {
  const data = useMap();
  if (data === false) return html`<p class="hint">${t("console_map_failed")}</p>`;
  if (!data) return html`<div class="map-box"></div>`;
  const keyOf = (m) => (dimension === "entity" ? m.entity : m.canton === null ? null : String(m.canton));
  // The scale spans only what is drawn (the canton map leaves "outside the Federation" grey).
  const drawn = new Set(data.municipalities.map(keyOf));
  const max = Math.max(1, ...Object.entries(values).filter(([k, v]) => drawn.has(k) && isShown(v)).map(([, v]) => v));
  const n = SHADES.length;
  const shade = (v) => SHADES[Math.max(0, Math.min(n - 1, Math.ceil((v / max) * n) - 1))];
  const fillOf = (key) => {
    if (key === null) return "#e6e6e6";
    const v = values[key];
    if (isShown(v)) return v === 0 ? "#ffffff" : shade(v);
    return `url(#hidden-${dimension})`;
  };
  const bands = SHADES.map((_, i) => [i, Math.floor((i * max) / n) + 1, Math.floor(((i + 1) * max) / n)])
    .filter(([, low, high]) => low <= high)
    .map(([i, low, high]) => [i, low === high ? `${low}` : `${low}–${high}`]);
  const anyHidden = Object.values(values).some((v) => !isShown(v) && v !== null && v !== undefined);
  return html`<div class="map-box" aria-hidden="true">
    <svg viewBox=${`0 0 ${data.width} ${data.height}`} class="map" focusable="false">
      <defs>
        <pattern id=${`hidden-${dimension}`} width="12" height="12" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
          <rect width="12" height="12" fill="#fbe9eb" />
          <line x1="0" y1="0" x2="0" y2="12" stroke="#a1142a" stroke-width="4" />
        </pattern>
      </defs>
      ${data.municipalities.map((m) => {
        const key = keyOf(m);
        const v = key === null ? t("console_outside_federation") : values[key];
        return html`<path d=${m.d} fill=${fillOf(key)} stroke="#555" stroke-width="0.6"><title>${m.name}: ${label(dimension, key ?? "none")} ${v ?? ""}</title></path>`;
      })}
    </svg>
    <ul class="map-legend">
      ${bands.map(([i, text]) => html`<li><span class=${`swatch s${i}`}></span>${text}</li>`)}
      <li><span class="swatch zero"></span>0</li>
      ${anyHidden && html`<li><span class="swatch hatched"></span>${t("console_map_hidden")}</li>`}
      ${dimension === "canton" && html`<li><span class="swatch grey"></span>${t("console_outside_federation")}</li>`}
    </ul>
    <p class="hint source">${t("console_map_source", { source: data.source.split(",")[0], licence: data.licence.split(";")[0] })}</p>
  </div>`;
}
