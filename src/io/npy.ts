/**
 * NumPy `.npy` reader and writer (format versions 1.0, 2.0 and 3.0 read; 1.0 written).
 *
 * Bytes in, bytes out: `Uint8Array` only, no `Buffer`, no DOM, no dependencies, so the same
 * code runs in Node, on the page and in a worker. Everything a file says about itself is
 * checked before a byte is allocated for it: the magic string, the version, the header
 * length, the header (a Python dict literal, parsed here without `eval`), the dtype, the
 * shape, and that the data is exactly as long as the shape says.
 *
 * The format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 *
 * What comes out is always one of three dtypes, because those are the ones the engine and
 * tfjs use. The conversions, chosen so that a value is never silently changed:
 *
 * | file dtype                 | result    | note                                               |
 * | -------------------------- | --------- | -------------------------------------------------- |
 * | `u1` (uint8)               | `uint8`   | as is                                              |
 * | `b1` (bool)                | `uint8`   | 0 / 1                                              |
 * | `f4` (float32)             | `float32` | as is                                              |
 * | `f2` (float16)             | `float32` | exact (every half is a float32)                    |
 * | `f8` (float64)             | `float32` | rounded to nearest; a finite value beyond float32's range is an error, not Infinity |
 * | `i1` `i2` `u2` `i4`        | `int32`   | exact                                              |
 * | `u4` `i8` `u8`             | `int32`   | exact; a value outside int32 is an error           |
 *
 * Refused with an {@link NpyError}: big-endian multi-byte dtypes, `fortran_order: True` when
 * two or more dimensions are longer than 1 (otherwise the two orders are the same bytes),
 * object / string / structured / complex / datetime dtypes, more than {@link NPY_MAX_BYTES}
 * bytes of data, and any bytes after the data (a sign that the header's shape is wrong).
 */

/** The dtypes {@link parseNpy} returns and {@link writeNpy} writes. */
export type NpyDtype = 'uint8' | 'float32' | 'int32';

/** An n-d array in C (row-major) order: `data.length` is the product of `shape` (1 for `[]`). */
export type NpyArray =
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array };

/**
 * What {@link parseNpy} returns: an {@link NpyArray} whose data owns a fresh, aligned
 * `ArrayBuffer` of exactly its length (safe to transfer to a worker), plus the dtype as the
 * file wrote it (e.g. `'<f8'`), so a caller can tell the user that a conversion took place.
 */
export type ParsedNpy = (
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array<ArrayBuffer> }
  | { dtype: 'float32'; shape: number[]; data: Float32Array<ArrayBuffer> }
  | { dtype: 'int32'; shape: number[]; data: Int32Array<ArrayBuffer> }
) & { sourceDescr: string };

/** Every problem with a `.npy` file or with an array handed to {@link writeNpy}. */
export class NpyError extends Error {
  override readonly name = 'NpyError';
  /** The file name the message refers to (the `name` given to {@link parseNpy}). */
  readonly fileName: string;
  constructor(fileName: string, message: string) {
    super(`${fileName}: ${message}`);
    this.fileName = fileName;
  }
}

/**
 * Largest data block read or written, in bytes (2 GiB). A browser tab cannot hold more in
 * one ArrayBuffer in practice, and a corrupt or hostile header can claim any shape: this is
 * checked before anything is allocated.
 */
export const NPY_MAX_BYTES = 2 ** 31;

/** NumPy's own limit on the number of dimensions (NPY_MAXDIMS in NumPy 2). */
const NPY_MAX_DIMS = 64;

/** `\x93NUMPY`: the six bytes every .npy file begins with. */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Headers are padded so that the data starts on a multiple of this (NumPy's ARRAY_ALIGN). */
const ARRAY_ALIGN = 64;

/**
 * Spaces NumPy ≥ 1.24 leaves after the dict so the shape can grow in place (its
 * GROWTH_AXIS_MAX_DIGITS); we write the same so our files match `np.save` byte for byte.
 */
const GROWTH_AXIS_MAX_DIGITS = 21;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/**
 * Parses a `.npy` file.
 *
 * @param bytes the whole file. Not modified and not retained: the result owns a copy.
 * @param name the file name used in error messages (default `'array.npy'`).
 * @throws NpyError when the file is not a .npy file, is truncated, or holds a dtype or
 *   layout listed as refused in this module's comment; the message says what to do.
 */
export function parseNpy(bytes: Uint8Array, name = 'array.npy'): ParsedNpy {
  const fail = (message: string): never => {
    throw new NpyError(name, message);
  };

  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) {
    const looksLikeZip = bytes[0] === 0x50 && bytes[1] === 0x4b;
    fail(
      looksLikeZip
        ? 'this is a zip archive (an .npz?), not a single .npy array; save one array with np.save'
        : 'not a NumPy .npy file (it does not begin with the bytes \\x93NUMPY)',
    );
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    fail(`unsupported .npy format version ${major}.${minor}; versions 1.0, 2.0 and 3.0 can be read`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('file ends inside the header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    fail(`file is truncated: the header claims ${headerLength} bytes but only ${bytes.length - headerStart} follow`);
  }

  const headerBytes = bytes.subarray(headerStart, dataStart);
  // Versions 1 and 2 use latin-1; 3 uses UTF-8 (for structured field names, which we refuse anyway).
  const headerText = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);
  const header = parseHeader(headerText, fail);

  const dtype = parseDescr(header.descr, fail);
  const shape = header.shape;
  // With at most one dimension longer than 1, C and Fortran order are the same bytes.
  if (header.fortranOrder && shape.filter((d) => d > 1).length >= 2) {
    fail(
      `the array is stored in Fortran (column-major) order, which is not supported; ` +
        `save it with np.save(path, np.ascontiguousarray(x))`,
    );
  }

  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = count * dtype.itemSize;
  const outBytes = count * dtype.outSize;
  if (!Number.isSafeInteger(count) || Math.max(dataBytes, outBytes) > NPY_MAX_BYTES) {
    fail(
      `shape (${shape.join(', ')}) holds ${count} values, more than the ` +
        `${NPY_MAX_BYTES / 2 ** 30} GiB this app can load in one array`,
    );
  }
  const available = bytes.length - dataStart;
  if (available < dataBytes) {
    fail(
      `file is truncated: shape (${shape.join(', ')}) of ${header.descr} needs ${dataBytes} bytes ` +
        `of data but only ${available} are present`,
    );
  }
  if (available > dataBytes) {
    fail(
      `${available - dataBytes} unexpected bytes after the data: the header's shape ` +
        `(${shape.join(', ')}) of ${header.descr} accounts for ${dataBytes} bytes, the file holds ${available}`,
    );
  }

  const src = new DataView(bytes.buffer, bytes.byteOffset + dataStart, dataBytes);
  const converted = dtype.read(src, count, fail);
  return { ...converted, shape, sourceDescr: header.descr } as ParsedNpy;
}

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, fail: (m: string) => never): Header {
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    if (e instanceof PySyntaxError) fail(`the header is not a valid .npy header (${e.message}): ${quoteHeader(text)}`);
    throw e;
  }
  if (!(dict instanceof Map)) return fail(`the header is not a Python dict: ${quoteHeader(text)}`);

  const keys = [...dict.keys()].map(String).sort();
  const expected = ['descr', 'fortran_order', 'shape'];
  if (keys.length !== 3 || !keys.every((k, i) => k === expected[i])) {
    fail(`the header must have exactly the keys 'descr', 'fortran_order' and 'shape'; it has ${keys.map((k) => `'${k}'`).join(', ') || 'none'}`);
  }
  const descr = dict.get('descr');
  if (Array.isArray(descr)) {
    fail('structured (record) dtypes are not supported; save a plain numeric array (e.g. float32 or uint8)');
  }
  if (typeof descr !== 'string') return fail(`the header's 'descr' must be a dtype string such as '<f4'`);
  const fortranOrder = dict.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') return fail(`the header's 'fortran_order' must be True or False`);
  const shape = dict.get('shape');
  if (!(shape instanceof PyTuple)) return fail(`the header's 'shape' must be a tuple of integers, e.g. (3, 2)`);
  if (shape.items.length > NPY_MAX_DIMS) fail(`the shape has ${shape.items.length} dimensions; at most ${NPY_MAX_DIMS} are allowed`);
  const dims = shape.items.map((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      return fail(`the shape (${shape.items.map(String).join(', ')}) must hold non-negative integers`);
    }
    if (!Number.isSafeInteger(d)) fail(`the shape's size ${d} is far more than this app can load`);
    return d;
  });
  return { descr, fortranOrder, shape: dims };
}

function quoteHeader(text: string): string {
  const t = text.trimEnd();
  return JSON.stringify(t.length > 120 ? `${t.slice(0, 117)}...` : t);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

type Converted =
  | { dtype: 'uint8'; data: Uint8Array<ArrayBuffer> }
  | { dtype: 'float32'; data: Float32Array<ArrayBuffer> }
  | { dtype: 'int32'; data: Int32Array<ArrayBuffer> };

interface SourceDtype {
  /** Bytes per value in the file. */
  itemSize: number;
  /** Bytes per value in the result. */
  outSize: number;
  read: (src: DataView, count: number, fail: (m: string) => never) => Converted;
}

/** Human names for the error messages. */
const KIND_NAMES: Record<string, string> = {
  b: 'bool',
  i: 'int',
  u: 'uint',
  f: 'float',
  c: 'complex',
  O: 'object',
  S: 'bytes string',
  a: 'bytes string',
  U: 'unicode string',
  V: 'raw void',
  M: 'datetime',
  m: 'timedelta',
};

const SUPPORTED_HINT = 'save as little-endian float32 or uint8, e.g. np.save(path, x.astype("<f4"))';

function parseDescr(descr: string, fail: (m: string) => never): SourceDtype {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)(\[\w+\])?$/.exec(descr);
  if (!m) return fail(`dtype '${descr}' is not understood; ${SUPPORTED_HINT}`);
  const [, order, kind, sizeText, unit] = m;
  if (unit && kind !== 'M' && kind !== 'm') fail(`dtype '${descr}' is not understood; ${SUPPORTED_HINT}`);
  const size = sizeText === '' ? 0 : Number(sizeText);
  const bits = kind === 'U' ? '' : size > 0 ? String(size * 8) : '';
  const words = `${KIND_NAMES[kind] ?? `kind '${kind}'`}${kind === 'b' || kind === 'O' ? '' : bits}`;

  if (kind === 'O') {
    fail(`dtype '${descr}' (Python objects) is not supported: object arrays need pickle, which is unsafe to load; ${SUPPORTED_HINT}`);
  }
  if ('SaUVcMm'.includes(kind)) fail(`dtype '${descr}' (${words}) is not supported; ${SUPPORTED_HINT}`);
  // '=' is "native order"; NumPy resolves it to '<' or '>' before writing, and the machines
  // that run this app are all little-endian, so it is read as '<'.
  if (order === '>' && size > 1) {
    fail(`dtype '${descr}' (big-endian ${words}) is not supported; ${SUPPORTED_HINT}`);
  }
  const reader = READERS[`${kind}${size}`];
  if (!reader) fail(`dtype '${descr}' (${words}) is not supported; ${SUPPORTED_HINT}`);
  return { itemSize: size, outSize: (kind === 'u' || kind === 'b') && size === 1 ? 1 : 4, read: reader };
}

/** Copies `src` into a fresh buffer, so typed views on it are aligned and own their memory. */
function copyBytes(src: DataView): ArrayBuffer {
  const out = new ArrayBuffer(src.byteLength);
  new Uint8Array(out).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  return out;
}

const MAX_FLOAT32 = 3.4028234663852886e38;

const READERS: Record<string, SourceDtype['read']> = {
  u1: (src) => ({ dtype: 'uint8', data: new Uint8Array(copyBytes(src)) }),
  b1: (src, count, fail) => {
    const data = new Uint8Array(copyBytes(src));
    for (let i = 0; i < count; i++) if (data[i] > 1) fail(`bool value ${data[i]} at index ${i} is neither 0 nor 1`);
    return { dtype: 'uint8', data };
  },
  f4: (src, count) => {
    if (HOST_IS_LITTLE_ENDIAN) return { dtype: 'float32', data: new Float32Array(copyBytes(src)) };
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = src.getFloat32(i * 4, true);
    return { dtype: 'float32', data };
  },
  f2: (src, count) => {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = halfToFloat(src.getUint16(i * 2, true));
    return { dtype: 'float32', data };
  },
  f8: (src, count, fail) => {
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = src.getFloat64(i * 8, true);
      if (Math.abs(v) > MAX_FLOAT32 && Number.isFinite(v)) {
        fail(`float64 value ${v} at index ${i} is too large for float32, which this app computes in`);
      }
      data[i] = v;
    }
    return { dtype: 'float32', data };
  },
  i1: (src, count) => intReader(count, (i) => src.getInt8(i)),
  i2: (src, count) => intReader(count, (i) => src.getInt16(i * 2, true)),
  u2: (src, count) => intReader(count, (i) => src.getUint16(i * 2, true)),
  i4: (src, count) => {
    if (HOST_IS_LITTLE_ENDIAN) return { dtype: 'int32', data: new Int32Array(copyBytes(src)) };
    return intReader(count, (i) => src.getInt32(i * 4, true));
  },
  u4: (src, count, fail) => checkedIntReader(count, (i) => src.getUint32(i * 4, true), 'uint32', fail),
  i8: (src, count, fail) => checkedIntReader(count, (i) => src.getBigInt64(i * 8, true), 'int64', fail),
  u8: (src, count, fail) => checkedIntReader(count, (i) => src.getBigUint64(i * 8, true), 'uint64', fail),
};

function intReader(count: number, get: (i: number) => number): Converted {
  const data = new Int32Array(count);
  for (let i = 0; i < count; i++) data[i] = get(i);
  return { dtype: 'int32', data };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function checkedIntReader(
  count: number,
  get: (i: number) => number | bigint,
  typeName: string,
  fail: (m: string) => never,
): Converted {
  const data = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = get(i);
    if (v < INT32_MIN || v > INT32_MAX) {
      fail(`${typeName} value ${v} at index ${i} does not fit in int32; save as float32 or int32 instead`);
    }
    data[i] = Number(v);
  }
  return { dtype: 'int32', data };
}

/** IEEE 754 half (binary16) to number; exact. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

// ---------------------------------------------------------------------------------------
// A parser for the Python literals a .npy header may contain (no eval)
// ---------------------------------------------------------------------------------------

/** A Python tuple, kept apart from lists because a shape must be a tuple. */
class PyTuple {
  constructor(readonly items: PyValue[]) {}
  toString(): string {
    return `(${this.items.map(String).join(', ')}${this.items.length === 1 ? ',' : ''})`;
  }
}

type PyValue = string | number | boolean | null | PyValue[] | PyTuple | Map<string | number, PyValue>;

class PySyntaxError extends Error {}

/**
 * Parses one Python literal: dict, tuple, list, str ('..' or ".."), int (with Python 2's
 * trailing `L`, which old NumPy wrote in shapes), float, True, False, None. That covers
 * everything `repr` puts in a .npy header. Surrounding whitespace is allowed; nothing else.
 */
function parsePyLiteral(text: string): PyValue {
  let pos = 0;

  const error = (what: string): never => {
    const found = pos < text.length ? `'${text[pos]}'` : 'the end of the header';
    throw new PySyntaxError(`${what} at character ${pos + 1}, found ${found}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const expect = (ch: string) => {
    skipSpace();
    if (text[pos] !== ch) error(`expected '${ch}'`);
    pos++;
  };

  /**
   * Parses comma-separated items up to `close` (a trailing comma is allowed) and returns
   * whether the last item had one: `(3,)` is a tuple where `(3)` is just 3.
   */
  const sequence = (close: string, item: () => void): { count: number; trailingComma: boolean } => {
    let count = 0;
    let trailingComma = false;
    for (;;) {
      skipSpace();
      if (text[pos] === close) {
        pos++;
        return { count, trailingComma };
      }
      if (count > 0 && !trailingComma) error(`expected ',' or '${close}'`);
      item();
      count++;
      skipSpace();
      trailingComma = text[pos] === ',';
      if (trailingComma) pos++;
    }
  };

  const value = (): PyValue => {
    skipSpace();
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      const map = new Map<string | number, PyValue>();
      sequence('}', () => {
        const key = value();
        if (typeof key !== 'string' && typeof key !== 'number') error('a dict key must be a string or a number');
        if (map.has(key as string | number)) error(`duplicate key ${String(key)}`);
        expect(':');
        map.set(key as string | number, value());
      });
      return map;
    }
    if (ch === '(' || ch === '[') {
      pos++;
      const items: PyValue[] = [];
      const { count, trailingComma } = sequence(ch === '(' ? ')' : ']', () => items.push(value()));
      if (ch === '[') return items;
      return count === 1 && !trailingComma ? items[0] : new PyTuple(items);
    }
    if (ch === "'" || ch === '"') return string(ch);
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos));
    if (word) {
      const literals: Record<string, PyValue> = { True: true, False: false, None: null };
      if (!(word[0] in literals)) error(`unexpected name '${word[0]}'`);
      pos += word[0].length;
      return literals[word[0]];
    }
    const num = /^[+-]?(\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)[lL]?/.exec(text.slice(pos));
    if (num) {
      pos += num[0].length;
      return Number(num[0].replace(/[lL]$/, ''));
    }
    return error('expected a value');
  };

  const string = (quote: string): string => {
    pos++;
    let out = '';
    for (;;) {
      if (pos >= text.length) error('unterminated string');
      const ch = text[pos++];
      if (ch === quote) return out;
      if (ch === '\n') error('unterminated string');
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const esc = text[pos++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
      if (esc in simple) out += simple[esc];
      else if (esc === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(pos, pos + 2))) {
        out += String.fromCharCode(parseInt(text.slice(pos, pos + 2), 16));
        pos += 2;
      } else error('unsupported escape in string');
    }
  };

  const result = value();
  skipSpace();
  if (pos !== text.length) error('unexpected text after the dict');
  return result;
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

const DESCR: Record<NpyDtype, string> = { uint8: '|u1', float32: '<f4', int32: '<i4' };
const ITEM_SIZE: Record<NpyDtype, number> = { uint8: 1, float32: 4, int32: 4 };

/**
 * Writes an array as a version 1.0 `.npy` file, byte for byte what `np.save` (NumPy ≥ 1.24)
 * writes for the same array: header padded with spaces and a newline to a multiple of 64 bytes.
 *
 * @param arr `data` in C order with `data.length` equal to the product of `shape`
 *   (1 for `[]`); `data` must be the typed array that matches `dtype`. Not retained.
 * @returns a new buffer holding the whole file.
 * @throws NpyError when the dtype, shape or data length do not agree.
 */
export function writeNpy(arr: NpyArray, name = 'array.npy'): Uint8Array<ArrayBuffer> {
  const { dtype, shape, data } = arr;
  const fail = (message: string): never => {
    throw new NpyError(name, message);
  };
  if (!(dtype in DESCR)) fail(`cannot write dtype '${String(dtype)}'; use uint8, float32 or int32`);
  const expectedType = { uint8: Uint8Array, float32: Float32Array, int32: Int32Array }[dtype];
  if (!(data instanceof expectedType)) fail(`dtype '${dtype}' needs its data in a ${expectedType.name}`);
  if (!Array.isArray(shape) || shape.length > NPY_MAX_DIMS) fail(`shape must be an array of at most ${NPY_MAX_DIMS} sizes`);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`shape [${shape.join(', ')}] must hold non-negative integers`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) fail(`shape [${shape.join(', ')}] needs ${count} values but data has ${data.length}`);
  const dataBytes = count * ITEM_SIZE[dtype];
  if (dataBytes > NPY_MAX_BYTES) fail(`${dataBytes} bytes of data is more than the ${NPY_MAX_BYTES} bytes allowed`);

  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // NumPy pads with 1..ARRAY_ALIGN spaces (never 0) before the final newline.
  const prefix = 10;
  const padding = ARRAY_ALIGN - ((prefix + dict.length + 1) % ARRAY_ALIGN);
  const header = `${dict}${' '.repeat(padding)}\n`;

  const out = new Uint8Array(prefix + header.length + dataBytes);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);

  const dataStart = prefix + header.length;
  if (dtype === 'uint8' || HOST_IS_LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, dataBytes), dataStart);
  } else if (dtype === 'float32') {
    for (let i = 0; i < count; i++) view.setFloat32(dataStart + i * 4, data[i], true);
  } else {
    for (let i = 0; i < count; i++) view.setInt32(dataStart + i * 4, data[i], true);
  }
  return out;
}
