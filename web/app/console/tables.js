// Protected tables as published (one or two breakdowns): a bar chart and table for one breakdown,
// a cross table for two; hidden cells keep their marker everywhere, including the CSV.
import { html } from "../html.js";
import { BarChart, BihMap, Count, dimensionName, Figure, label, TableNotes, TOTAL } from "./common.js";

const NOT_DIMENSIONS = new Set(["count", "percent"]);

export function dimsOf(table) {
  if (table.dims) return table.dims;
  const first = table.cells[0] ?? {};
  return Object.keys(first).filter((k) => !NOT_DIMENSIONS.has(k));
}

// Release and Eurostat tables call sex "eurostat_sex" and citizenship groups by group: same labels.
const labelDimension = (d) => (d === "eurostat_sex" ? "sex" : d);

export function OneWay({ id, title, table, dimension, unit, filename, legend }) {
  const rows = table.cells.map((c) => ({
    key: c[dimension],
    label: label(labelDimension(dimension), c[dimension]),
    values: [c.count],
  }));
  const parts = rows.filter((r) => r.key !== TOTAL);
  return html`<${Figure}
    id=${id}
    title=${title}
    dimension=${dimension}
    columns=${[unit]}
    rows=${rows}
    filename=${filename}
    legend=${legend}
    chart=${dimension === "entity" || dimension === "canton"
      ? html`<${BihMap} dimension=${dimension} values=${Object.fromEntries(parts.map((r) => [r.key, r.values[0]]))} />`
      : html`<${BarChart} categories=${parts.map((r) => r.label)} values=${parts.map((r) => r.values[0])} name=${unit} />`}
  />`;
}

export function TwoWay({ id, title, table, dims, filename, legend = [] }) {
  const [rowDim, colDim] = dims;
  const rowKeys = [...new Set(table.cells.map((c) => c[rowDim]))];
  const colKeys = [...new Set(table.cells.map((c) => c[colDim]))];
  const at = (r, c) => table.cells.find((cell) => cell[rowDim] === r && cell[colDim] === c)?.count ?? null;
  const markers = table.cells.map((c) => c.count);
  const csvRows = rowKeys.flatMap((r) => colKeys.map((c) => [r, label(labelDimension(rowDim), r), c, label(labelDimension(colDim), c), at(r, c)]));
  return html`<figure class="figure card" id=${id} aria-labelledby=${`${id}-title`}>
    <figcaption><h3 id=${`${id}-title`}>${title}</h3></figcaption>
    <div class="table-wrap">
      <table class="data cross">
        <caption class="visually-hidden">${title}</caption>
        <thead>
          <tr>
            <th scope="col">${dimensionName(labelDimension(rowDim))} \\ ${dimensionName(labelDimension(colDim))}</th>
            ${colKeys.map((c) => html`<th scope="col">${label(labelDimension(colDim), c)}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rowKeys.map(
            (r) => html`<tr data-key=${r} class=${r === TOTAL ? "total" : ""}>
              <th scope="row">${label(labelDimension(rowDim), r)}</th>
              ${colKeys.map((c) => html`<td data-col=${c}><${Count} value=${at(r, c)} /></td>`)}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <${TableNotes} columns=${[rowDim, `${rowDim}_label`, colDim, `${colDim}_label`, "count"]} rows=${csvRows}
      markers=${markers} filename=${filename} title=${title} legend=${legend} />
  </figure>`;
}

// Any published table: total only, one breakdown or two.
export function PublishedTable({ name, table, title, unit, filename, legend }) {
  const dims = dimsOf(table);
  const id = `tbl-${name}`;
  if (dims.length === 0) {
    return html`<figure class="figure card" id=${id}>
      <figcaption><h3>${title}</h3></figcaption>
      <p class="big"><${Count} value=${table.cells[0]?.count} /> ${unit}</p>
    </figure>`;
  }
  if (dims.length === 1) return html`<${OneWay} id=${id} title=${title} table=${table} dimension=${dims[0]} unit=${unit} filename=${filename} legend=${legend} />`;
  return html`<${TwoWay} id=${id} title=${title} table=${table} dims=${dims} filename=${filename} legend=${legend} />`;
}
