// How numbers, shapes, durations and metrics read on the page.

export const shape = (dims) => (dims && dims.length ? dims.join("×") : "—");

export const percent = (value, digits = 1) => `${(100 * value).toFixed(digits)}%`;

export function number(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en");
  return Number(value.toPrecision(digits)).toString();
}

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
