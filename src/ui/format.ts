/** Number formatting shared by the panels. */
export const pct = (v: number | undefined | null, digits = 1): string => (v == null || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(digits)} %`);
export const fixed = (v: number | undefined | null, digits = 3): string => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(digits));
export const bytes = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} KB`);
export const count = (n: number): string => n.toLocaleString('en-US');
