// The console's building blocks: labels, markers, CSV files, and a figure = chart + data table + CSV download.
import { html, useEffect, useRef, useState } from "../html.js";
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
export const MARKERS = {
  "<5": "fewer than 5, hidden to protect the people counted",
  "<10": "fewer than 10, hidden to protect the people counted (children or cantons)",
  x: "hidden so that a hidden cell cannot be worked out from the others",
};
export const isShown = (count) => typeof count === "number";
export const markerText = (count) => MARKERS[count] ?? "hidden to protect the people counted";

const CANTONS = {
  1: "Una-Sana Canton",
  2: "Posavina Canton",
  3: "Tuzla Canton",
  4: "Zenica-Doboj Canton",
  5: "Bosnian-Podrinje Canton Goražde",
  6: "Central Bosnia Canton",
  7: "Herzegovina-Neretva Canton",
  8: "West Herzegovina Canton",
  9: "Sarajevo Canton",
  10: "Canton 10",
  none: "outside the Federation (RS, Brčko District)",
};
const LABELS = {
  sex: { F: "Female", M: "Male", X: "X (other)", UNK: "Unknown" },
  entity: { FBIH: "Federation of BiH", RS: "Republika Srpska", BD: "Brčko District", unknown: "Unknown" },
  canton: CANTONS,
  citizenship: { national: "National", eu: "Other EU", non_eu: "Non-EU", unknown: "Unknown", UNK: "Unknown" },
  nationality: { national: "Citizens of BiH", foreign: "Foreign citizens", unknown: "Unknown" },
  urgent: { urgent: "Urgent", routine: "Routine" },
  answer_time: { "<2h": "under 2 h", "2-24h": "2–24 h", "24-48h": "24–48 h", ">48h": "over 48 h", none: "no answer" },
  placement_time: { "<24h": "under 24 h", "1-7d": "1–7 days", ">7d": "over 7 days", none: "not placed" },
  age_group: { child: "Children", adult: "Adults" },
  child: { child: "Children", adult: "Adults" },
};

export function label(dimension, code) {
  if (code === TOTAL) return "Total";
  const known = LABELS[dimension]?.[code];
  if (known) return known;
  const text = String(code).replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const DIMENSION_NAMES = {
  sex: "Sex",
  age_band: "Age band",
  form: "Form of exploitation",
  citizenship: "Citizenship",
  nationality: "Nationality",
  entity: "Entity",
  canton: "Canton (FBiH)",
  status: "Status",
  answer_time: "Time to answer",
  placement_time: "Time to placement",
  service_type: "Service",
  urgent: "Urgency",
  age_group: "Age group",
  form_group: "Form of exploitation",
  quarter: "Quarter",
  citizenship_group: "Citizenship",
};
export const dimensionName = (d) => DIMENSION_NAMES[d] ?? label("", d);

export function formatCount(count) {
  return isShown(count) ? count.toLocaleString("en") : count;
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
  return html`<a class="button csv no-print" href=${href} download=${filename}>Download CSV<span class="visually-hidden"> (${filename})</span></a>`;
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
    ${used.map((m) => html`<li><span class="count suppressed">${m}</span> ${markerText(m)}; not zero, and never drawn as a number.</li>`)}
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
              rotate: categories.length > 5 ? -30 : 0,
              size: categories.length > 5 ? 90 : 40,
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
    <${Legend} markers=${markers} />
    <${CsvLink}
      filename=${filename}
      columns=${[dimension, `${dimension}_label`, ...columns]}
      rows=${rows.map((r) => [r.key, r.label, ...r.values])}
      legend=${[title, ...legend, ...[...new Set(markers.filter((m) => !isShown(m) && m != null))].map((m) => `${m}: ${markerText(m)}`)]}
    />
  </figure>`;
}

export function Loading() {
  return html`<p role="status">Loading…</p>`;
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
  if (data === false) return html`<p class="hint">The map could not be loaded; the table below has every figure.</p>`;
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
        const v = key === null ? "outside the Federation" : values[key];
        return html`<path d=${m.d} fill=${fillOf(key)} stroke="#555" stroke-width="0.6"><title>${m.name}: ${label(dimension, key ?? "none")} ${v ?? ""}</title></path>`;
      })}
    </svg>
    <ul class="map-legend">
      ${bands.map(([i, text]) => html`<li><span class=${`swatch s${i}`}></span>${text}</li>`)}
      <li><span class="swatch zero"></span>0</li>
      ${anyHidden && html`<li><span class="swatch hatched"></span>hidden (see the table)</li>`}
      ${dimension === "canton" && html`<li><span class="swatch grey"></span>outside the Federation</li>`}
    </ul>
    <p class="hint source">Boundaries: ${data.source.split(",")[0]}; ${data.licence.split(";")[0]}.</p>
  </div>`;
}
