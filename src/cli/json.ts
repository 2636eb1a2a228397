/**
 * JSON output: float32 values printed with the fewest digits that read back to the same
 * float32 (so `Math.fround(JSON value)` equals the value in the .npy file, and a 101 × 101
 * grid is not three times longer than it needs to be), and a layout that keeps arrays of
 * numbers on one line (a grid is one line per row) while objects are indented.
 */

/** Largest number of significant digits a float32 ever needs to round-trip. */
const FLOAT32_MAX_DIGITS = 9;

/**
 * The double with the shortest decimal form that rounds to the same float32 as `v`
 * (`v` itself when it is not finite). `Math.fround(result) === Math.fround(v)`.
 */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v === 0 ? 0 : v;
  const f = Math.fround(v);
  for (let digits = 1; digits < FLOAT32_MAX_DIGITS; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return Number(f.toPrecision(FLOAT32_MAX_DIGITS));
}

/** A float32 array as plain numbers (shortest form). */
export function float32List(values: Float32Array): number[] {
  return Array.from(values, shortestFloat32);
}

/**
 * A row-major [rows, cols] array as `rows` arrays of `cols` numbers: row j holds
 * values[j * cols .. (j + 1) * cols). Float arrays use the shortest float32 form.
 */
export function gridRows(values: Float32Array | Int32Array, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let j = 0; j < rows; j++) {
    const row = values.subarray(j * cols, (j + 1) * cols);
    out.push(row instanceof Float32Array ? float32List(row) : Array.from(row));
  }
  return out;
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function scalar(v: unknown): string {
  // JSON has no NaN or Infinity; null is what JSON.stringify writes for them too.
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  return JSON.stringify(v) ?? 'null';
}

/**
 * Pretty JSON: objects one key per line (indent 2), arrays of scalars on one line, arrays of
 * arrays one inner array per line. Keys whose value is undefined are left out, as
 * JSON.stringify does.
 */
export function formatJson(value: unknown, indent = 0): string {
  if (isPrimitive(value)) return scalar(value);
  const pad = ' '.repeat(indent + 2);
  const end = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every(isPrimitive)) return `[${value.map(scalar).join(', ')}]`;
    return `[\n${value.map((v) => pad + formatJson(v, indent + 2)).join(',\n')}\n${end}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${formatJson(v, indent + 2)}`).join(',\n')}\n${end}}`;
}
