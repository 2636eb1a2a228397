import { describe, expect, it } from 'vitest';
import { NPY_MAX_BYTES, NpyError, parseNpy, writeNpy, type NpyArray } from './npy';

/**
 * `np.save(f, np.arange(6, dtype='<f4').reshape(3, 2))` with NumPy 2.4.6, base64. Our writer
 * must produce these bytes exactly, so files we export open in NumPy and diff cleanly.
 */
const NUMPY_F4_3X2 =
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=';

function fromBase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/**
 * Builds a .npy file around a header text the way NumPy lays it out (magic, version,
 * little-endian header length, header padded with spaces and a newline), so a test can
 * state the header exactly as a user's file would carry it.
 */
function npyFile(header: string, data: ArrayBufferView = new Uint8Array(0), major = 1): Uint8Array {
  const lenBytes = major === 1 ? 2 : 4;
  const prefix = 8 + lenBytes;
  const pad = 64 - ((prefix + header.length + 1) % 64);
  const text = header + ' '.repeat(pad) + '\n';
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(prefix + text.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  out.set(body, prefix + text.length);
  return out;
}

const header = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

/** Runs `fn`, asserts it throws an NpyError, and returns the message. */
function npyErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NpyError);
    return (e as NpyError).message;
  }
  throw new Error('expected an NpyError, nothing was thrown');
}

describe('writeNpy / parseNpy round trip', () => {
  const cases: Array<[string, NpyArray]> = [
    ['uint8 0-d', { dtype: 'uint8', shape: [], data: new Uint8Array([200]) }],
    ['uint8 1-d', { dtype: 'uint8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) }],
    [
      'uint8 4-d',
      { dtype: 'uint8', shape: [2, 3, 4, 1], data: Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256) },
    ],
    ['float32 0-d', { dtype: 'float32', shape: [], data: new Float32Array([-1.5]) }],
    [
      'float32 1-d with specials',
      { dtype: 'float32', shape: [6], data: new Float32Array([0.1, -0, Infinity, -Infinity, NaN, 3.4e38]) },
    ],
    [
      'float32 4-d',
      { dtype: 'float32', shape: [2, 28, 28, 1], data: Float32Array.from({ length: 1568 }, (_, i) => Math.sin(i)) },
    ],
    ['float32 empty', { dtype: 'float32', shape: [0, 28, 28, 1], data: new Float32Array(0) }],
    ['int32 0-d', { dtype: 'int32', shape: [], data: new Int32Array([-7]) }],
    ['int32 1-d', { dtype: 'int32', shape: [3], data: new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]) }],
    ['int32 4-d', { dtype: 'int32', shape: [1, 2, 3, 4], data: Int32Array.from({ length: 24 }, (_, i) => i - 12) }],
  ];

  it.each(cases)('%s', (_label, arr) => {
    const bytes = writeNpy(arr);
    // NumPy's layout: the data starts on a 64-byte boundary.
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes[10 + headerLength - 1]).toBe(0x0a);

    const back = parseNpy(bytes, 'x.npy');
    expect(back.dtype).toBe(arr.dtype);
    expect(back.shape).toEqual(arr.shape);
    expect(back.data.constructor).toBe(arr.data.constructor);
    expect(Array.from(back.data)).toEqual(Array.from(arr.data));
    expect(Object.is(back.data[1], arr.data[1])).toBe(true); // -0 stays -0
  });

  it('writes exactly the bytes np.save writes', () => {
    const numpy = fromBase64(NUMPY_F4_3X2);
    const ours = writeNpy({ dtype: 'float32', shape: [3, 2], data: new Float32Array([0, 1, 2, 3, 4, 5]) });
    expect(Array.from(ours)).toEqual(Array.from(numpy));
  });

  it('writes a subarray view without its neighbours', () => {
    const big = new Float32Array([9, 1, 2, 9]);
    const bytes = writeNpy({ dtype: 'float32', shape: [2], data: big.subarray(1, 3) });
    expect(Array.from(parseNpy(bytes).data)).toEqual([1, 2]);
  });

  it('returns data that owns its buffer, independent of the input bytes', () => {
    const bytes = writeNpy({ dtype: 'uint8', shape: [3], data: new Uint8Array([1, 2, 3]) });
    const parsed = parseNpy(bytes);
    expect(parsed.data.byteOffset).toBe(0);
    expect(parsed.data.buffer.byteLength).toBe(3);
    bytes[bytes.length - 1] = 99;
    expect(parsed.data[2]).toBe(3);
  });

  it('rejects arrays whose data does not match the dtype or the shape', () => {
    expect(npyErrorOf(() => writeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }))).toMatch(
      /needs 4 values but data has 3/,
    );
    expect(
      npyErrorOf(() => writeNpy({ dtype: 'float32', shape: [2], data: new Uint8Array(2) } as unknown as NpyArray)),
    ).toMatch(/Float32Array/);
    expect(npyErrorOf(() => writeNpy({ dtype: 'uint8', shape: [-1], data: new Uint8Array(0) }))).toMatch(
      /non-negative integers/,
    );
  });
});

describe('parseNpy reads files as NumPy writes them', () => {
  it('reads the np.save golden file', () => {
    const a = parseNpy(fromBase64(NUMPY_F4_3X2));
    expect(a).toMatchObject({ dtype: 'float32', shape: [3, 2], sourceDescr: '<f4' });
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reads a hand-built header', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const a = parseNpy(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", data));
    expect(a.shape).toEqual([3, 2]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it.each([
    ['double quotes, no trailing comma', `{"shape": (2,), "fortran_order": False, "descr": "<i4"}`],
    ['key order and odd spacing', `{ 'shape' :(2 ,) ,'descr':'<i4','fortran_order' : False }`],
    ['Python 2 long integers', `{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }`],
    ['a 1-d array flagged Fortran order (same bytes as C order)', header('<i4', '(2,)', 'True')],
    ['a (1, 2) array flagged Fortran order (same bytes as C order)', header('<i4', '(1, 2)', 'True')],
  ])('accepts %s', (_label, text) => {
    const a = parseNpy(npyFile(text, new Int32Array([5, -6])));
    expect(a.shape.reduce((p, d) => p * d, 1)).toBe(2);
    expect(Array.from(a.data)).toEqual([5, -6]);
  });

  it('reads format versions 2.0 and 3.0', () => {
    for (const major of [2, 3]) {
      const a = parseNpy(npyFile(header('|u1', '(3,)'), new Uint8Array([7, 8, 9]), major));
      expect(Array.from(a.data)).toEqual([7, 8, 9]);
    }
  });

  it('reads from a Uint8Array that is an unaligned view into a larger buffer', () => {
    const file = npyFile(header('<f4', '(2,)'), new Float32Array([1.5, -2]));
    const padded = new Uint8Array(file.length + 3);
    padded.set(file, 1);
    const a = parseNpy(padded.subarray(1, 1 + file.length));
    expect(Array.from(a.data)).toEqual([1.5, -2]);
  });

  it('converts other numeric dtypes (documented table in npy.ts)', () => {
    const f8 = parseNpy(npyFile(header('<f8', '(3,)'), new Float64Array([0.1, -2.5, 1e30])));
    expect(f8).toMatchObject({ dtype: 'float32', sourceDescr: '<f8' });
    expect(Array.from(f8.data)).toEqual([Math.fround(0.1), -2.5, Math.fround(1e30)]);

    // 0x3c00 = 1, 0xc000 = -2, 0x7bff = 65504 (largest half), 0x0001 = smallest subnormal.
    const f2 = parseNpy(npyFile(header('<f2', '(4,)'), new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001])));
    expect(f2.dtype).toBe('float32');
    expect(Array.from(f2.data)).toEqual([1, -2, 65504, 2 ** -24]);

    const ints: Array<[string, ArrayBufferView, number[]]> = [
      ['<i8', new BigInt64Array([-3n, 4n, 2n ** 31n - 1n]), [-3, 4, 2 ** 31 - 1]],
      ['<u8', new BigUint64Array([0n, 9n, 2n ** 31n - 1n]), [0, 9, 2 ** 31 - 1]],
      ['<u4', new Uint32Array([0, 2 ** 31 - 1, 5]), [0, 2 ** 31 - 1, 5]],
      ['<i2', new Int16Array([-32768, 0, 32767]), [-32768, 0, 32767]],
      ['<u2', new Uint16Array([0, 1, 65535]), [0, 1, 65535]],
      ['|i1', new Int8Array([-128, 0, 127]), [-128, 0, 127]],
    ];
    for (const [descr, data, expected] of ints) {
      const a = parseNpy(npyFile(header(descr, '(3,)'), data));
      expect(a.dtype, descr).toBe('int32');
      expect(Array.from(a.data), descr).toEqual(expected);
    }

    const b1 = parseNpy(npyFile(header('|b1', '(2,)'), new Uint8Array([1, 0])));
    expect(b1.dtype).toBe('uint8');
    expect(Array.from(b1.data)).toEqual([1, 0]);
  });
});

describe('parseNpy rejects bad input with a message a user can act on', () => {
  const good = npyFile(header('<f4', '(3, 2)'), new Float32Array(6));

  it('not a .npy file', () => {
    const msg = npyErrorOf(() => parseNpy(new TextEncoder().encode('hello, world, not numpy'), 'x.npy'));
    expect(msg).toBe('x.npy: not a NumPy .npy file (it does not begin with the bytes \\x93NUMPY)');
    expect(npyErrorOf(() => parseNpy(new Uint8Array(0), 'x.npy'))).toMatch(/not a NumPy \.npy file/);
  });

  it('an .npz archive', () => {
    const zip = new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(npyErrorOf(() => parseNpy(zip, 'w.npz'))).toMatch(/zip archive.*np\.save/);
  });

  it('an unknown format version', () => {
    const bad = good.slice();
    bad[6] = 4;
    expect(npyErrorOf(() => parseNpy(bad, 'x.npy'))).toMatch(/version 4\.0/);
  });

  it('a header longer than the file', () => {
    expect(npyErrorOf(() => parseNpy(good.subarray(0, 40), 'x.npy'))).toMatch(/truncated.*header/);
  });

  it('truncated data', () => {
    const msg = npyErrorOf(() => parseNpy(good.subarray(0, good.length - 5), 'x.npy'));
    expect(msg).toBe('x.npy: file is truncated: shape (3, 2) of <f4 needs 24 bytes of data but only 19 are present');
  });

  it('bytes after the data', () => {
    const extra = new Uint8Array(good.length + 4);
    extra.set(good);
    expect(npyErrorOf(() => parseNpy(extra, 'x.npy'))).toMatch(/4 unexpected bytes after the data/);
  });

  it('big-endian data', () => {
    const msg = npyErrorOf(() => parseNpy(npyFile(header('>f4', '(2,)'), new Uint8Array(8)), 'x.npy'));
    expect(msg).toMatch(/^x\.npy: dtype '>f4' \(big-endian float32\) is not supported; save as little-endian float32 or uint8/);
  });

  it('Fortran order for a 2-d array', () => {
    const msg = npyErrorOf(() => parseNpy(npyFile(header('<f4', '(3, 2)', 'True'), new Float32Array(6))));
    expect(msg).toMatch(/Fortran \(column-major\) order.*np\.ascontiguousarray/);
  });

  it.each([
    ['|O', /Python objects.*pickle/],
    ['<U3', /unicode string/],
    ['|S4', /bytes string/],
    ['<c8', /complex64/],
    ['<M8[s]', /datetime64/],
    ['<f16', /float128\) is not supported/],
    ['float', /not understood/],
  ])('dtype %s', (descr, pattern) => {
    expect(npyErrorOf(() => parseNpy(npyFile(header(descr, '(1,)'), new Uint8Array(16))))).toMatch(pattern);
  });

  it('a structured dtype', () => {
    const text = `{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }`;
    expect(npyErrorOf(() => parseNpy(npyFile(text, new Float32Array(2))))).toMatch(/structured \(record\) dtypes/);
  });

  it.each([
    ['an unclosed dict', `{'descr': '<f4', 'fortran_order': False, 'shape': (2,)`, /not a valid \.npy header/],
    ['a function call', `__import__('os').system('echo hi')`, /not a valid \.npy header.*unexpected name '__import__'/],
    ['a name inside the dict', `{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}`, /unexpected name 'false'/],
    ['text after the dict', `{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk`, /unexpected text after/],
    ['a missing comma', `{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}`, /expected ',' or '}'/],
    ['an unterminated string', `{'descr': '<f4, 'fortran_order': False}`, /not a valid \.npy header/],
    ['a list, not a dict', `['<f4', False, (2,)]`, /not a Python dict/],
    ['a missing key', `{'descr': '<f4', 'shape': (2,)}`, /exactly the keys.*'descr', 'shape'/],
    ['an extra key', `{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}`, /exactly the keys/],
    ['a duplicate key', `{'descr': '<f4', 'descr': '<f4', 'shape': (2,)}`, /duplicate key descr/],
    ['a shape that is a list', header('<f4', '[2]'), /'shape' must be a tuple/],
    ['a negative size', header('<f4', '(-2,)'), /non-negative integers/],
    ['a fractional size', header('<f4', '(2.5,)'), /non-negative integers/],
    ['fortran_order that is not a bool', `{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}`, /True or False/],
  ])('header garbage: %s', (_label, text, pattern) => {
    const msg = npyErrorOf(() => parseNpy(npyFile(text, new Float32Array(2)), 'h.npy'));
    expect(msg).toMatch(/^h\.npy: /);
    expect(msg).toMatch(pattern);
  });

  it('an absurd shape, before allocating anything', () => {
    const msg = npyErrorOf(() => parseNpy(npyFile(header('<f4', '(100000, 100000, 3)'))));
    expect(msg).toMatch(/30000000000 values, more than the 2 GiB/);
    // Just over the limit in uint8 is refused too; the limit itself is stated in bytes.
    expect(NPY_MAX_BYTES).toBe(2 ** 31);
    expect(npyErrorOf(() => parseNpy(npyFile(header('|u1', `(${2 ** 31 + 1},)`))))).toMatch(/GiB/);
    expect(npyErrorOf(() => parseNpy(npyFile(header('<f4', `(${'9'.repeat(30)},)`))))).toMatch(/far more than this app can load/);
  });

  it('an int64 value that does not fit in int32', () => {
    const msg = npyErrorOf(() => parseNpy(npyFile(header('<i8', '(2,)'), new BigInt64Array([1n, 2n ** 40n]))));
    expect(msg).toMatch(/int64 value 1099511627776 at index 1 does not fit in int32/);
  });

  it('a float64 value beyond float32 range', () => {
    const msg = npyErrorOf(() => parseNpy(npyFile(header('<f8', '(1,)'), new Float64Array([1e300]))));
    expect(msg).toMatch(/too large for float32/);
  });
});
