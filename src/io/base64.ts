/**
 * Base64 for binary payloads inside JSON files (recipes) and data: URLs (images embedded in
 * SVG). Works the same in browsers, workers and Node (all have btoa/atob).
 */

/** Bytes per String.fromCharCode call: far below any engine's argument-count limit. */
const CHUNK = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Decodes base64; throws an Error naming `what` when the text is not base64. */
export function base64ToBytes(text: string, what = 'value'): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new Error(`${what} is not valid base64.`);
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Float32 values as little-endian base64 (the in-memory layout on every platform we run on). */
export function float32ToBase64(v: Float32Array): string {
  return bytesToBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
}

/** The inverse of float32ToBase64; checks the length and that every value is finite. */
export function base64ToFloat32(text: string, expected: number, what: string): Float32Array {
  const bytes = base64ToBytes(text, what);
  if (bytes.length !== expected * 4) throw new Error(`${what} holds ${bytes.length / 4} values; ${expected} were expected.`);
  const out = new Float32Array(bytes.buffer, bytes.byteOffset, expected).slice();
  const bad = out.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new Error(`${what} has a non-finite value at index ${bad}.`);
  return out;
}
