/** Plain-text output: aligned tables, key/value blocks and a few number and date formats. */

export type Cell = string | number | boolean | null | undefined;

/**
 * An aligned table with a header row; columns are separated by two spaces and numbers are
 * right-aligned so that digits line up.
 */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, j) => cell(row[j])));
  // Numbers, and number-like text such as "100%" or "1000+", are right-aligned.
  const numeric = headers.map((_, j) => rows.length > 0 && rows.every((row) => isNumberLike(row[j])));
  const widths = headers.map((h, j) => Math.max(h.length, ...text.map((r) => r[j]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, j) =>
        numeric[j] ? c.padStart(widths[j]!) : j === cells.length - 1 ? c : c.padEnd(widths[j]!),
      )
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...text.map(line)].join('\n') + '\n';
}

function isNumberLike(value: Cell): boolean {
  return (
    value === undefined ||
    value === null ||
    typeof value === 'number' ||
    /^-?\d[\d.]*[%+]?$/.test(String(value))
  );
}

/** `key  value` lines with the keys padded to one width. */
export function fields(entries: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${cell(v)}`.trimEnd()).join('\n') + '\n';
}

export function cell(value: Cell): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'number') return num(value);
  return String(value);
}

/** Integers as they are; other numbers to 4 significant decimals, without trailing zeros. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-4) return value.toPrecision(4);
  return String(Number(value.toFixed(abs >= 100 ? 2 : 4)));
}

/** An ISO date as `YYYY-MM-DD HH:MM:SS` (UTC). */
export function date(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 10 ? 0 : 1)} ${units[u]}`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** The metrics worth a glance: accuracy, F1 and ROC AUC for classifiers, RMSE, MAE and R² for regressions. */
export function mainMetrics(metrics: Record<string, unknown>): [string, number][] {
  const keys =
    'rmse' in metrics || 'r2' in metrics
      ? ['rmse', 'mae', 'r2']
      : ['accuracy', 'f1' in metrics ? 'f1' : 'f1_macro', 'roc_auc'];
  return keys.flatMap((k) => (typeof metrics[k] === 'number' ? [[k, metrics[k]] as [string, number]] : []));
}
