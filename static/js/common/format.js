// How numbers, sizes, shapes, durations and metrics read on screen, the same on every page.

/** A count or a metric: integers (and anything from 1000 up) with thousands separators, others to `digits`
 * significant digits; "—" when there is none. */
export function number(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en");
  return Number(value.toPrecision(digits)).toString();
}

export function plural(n, word) {
  return `${number(n)} ${word}${n === 1 ? "" : "s"}`;
}

export const percent = (value, digits = 1) => `${(100 * value).toFixed(digits)}%`;

const UNITS = ["bytes", "KiB", "MiB", "GiB", "TiB"];

export function bytes(count) {
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

/** A tensor shape as a layer's parameters and the server's messages write it: [1, 28, 28]. */
export const shape = (dims) => (dims ? `[${dims.join(", ")}]` : "—");

/** A sample's size in running text: 1×28×28. */
export const size = (dims) => (dims && dims.length ? dims.join("×") : "—");

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" }) : "—";
}

/** A run's headline metric: validation accuracy when there is one, else validation loss, else train loss. */
export function headline(metrics) {
  if (!metrics) return "—";
  if (metrics.val_accuracy !== undefined) return `${percent(metrics.val_accuracy)} val acc`;
  if (metrics.val_loss !== undefined) return `val loss ${number(metrics.val_loss)}`;
  return `train loss ${number(metrics.train_loss)}`;
}
