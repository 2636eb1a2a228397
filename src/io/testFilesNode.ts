/**
 * Test fixtures (unit tests in Vitest and e2e tests in Playwright, both in Node): real files in
 * the formats people drop by mistake, and real images with broken or absurd headers, built
 * byte by byte here so the tests need no binary fixtures and show what each file holds. Not
 * imported by the app (the `Node` suffix keeps it out of the app and worker builds).
 */
import { zipSync, zlibSync } from 'fflate';

const enc = new TextEncoder();

function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

function u32be(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function u16be(n: number): number[] {
  return [(n >>> 8) & 0xff, n & 0xff];
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE, as PNG and zip use it). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const typed = concat([enc.encode(type), data]);
  return concat([u32be(data.length), typed, u32be(crc32(typed))]);
}

/**
 * A valid 8-bit grayscale PNG of `width` × `height` whose pixels come from `pixel(x, y)`
 * (0..255). Every chunk has its correct CRC.
 */
export function grayPng(width: number, height: number, pixel: (x: number, y: number) => number): Uint8Array {
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter type None
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = pixel(x, y);
  }
  const ihdr = Uint8Array.from([...u32be(width), ...u32be(height), 8, 0, 0, 0, 0]);
  return concat([[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], pngChunk('IHDR', ihdr), pngChunk('IDAT', zlibSync(raw)), pngChunk('IEND', new Uint8Array(0))]);
}

/**
 * A PNG whose header declares `width` × `height` (e.g. 100,000 × 100,000, 10 gigapixels) with
 * a correct IHDR CRC, followed by one compressed row and IEND: small on disk, absurd once
 * decoded. A decoder that trusts the header allocates width × height bytes.
 */
export function hugePng(width: number, height: number): Uint8Array {
  const ihdr = Uint8Array.from([...u32be(width), ...u32be(height), 8, 0, 0, 0, 0]);
  const row = new Uint8Array(Math.min(width, 4096) + 1);
  return concat([[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], pngChunk('IHDR', ihdr), pngChunk('IDAT', zlibSync(row)), pngChunk('IEND', new Uint8Array(0))]);
}

/**
 * A real PNG (`grayPng`) whose compressed pixel data (zlib header included) has been
 * overwritten with noise: the signature, IHDR and chunk layout are intact, the pixels cannot
 * be decoded.
 */
export function corruptPng(width = 28, height = 28): Uint8Array {
  const png = grayPng(width, height, (x, y) => (x * 7 + y * 13) & 0xff);
  const out = png.slice();
  // IDAT data starts after the signature (8), the IHDR chunk (25) and IDAT's length + type (8).
  const start = 8 + 25 + 8;
  let s = 12345;
  for (let i = start; i < out.length - 16; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/**
 * The header of a baseline JPEG declaring `width` × `height` (up to 65,535 a side): SOI, a
 * JFIF APP0 segment and a SOF0 frame header, then EOI, no scan data.
 */
export function jpegHeader(width: number, height: number): Uint8Array {
  const app0 = [0xff, 0xe0, ...u16be(16), ...enc.encode('JFIF\0'), 1, 1, 0, ...u16be(1), ...u16be(1), 0, 0];
  const sof0 = [0xff, 0xc0, ...u16be(11), 8, ...u16be(height), ...u16be(width), 1, 1, 0x11, 0];
  return Uint8Array.from([0xff, 0xd8, ...app0, ...sof0, 0xff, 0xd9]);
}

/**
 * The start of an HDF5 file as h5py writes it for `model.save('model.h5')`: the 8-byte
 * signature and a version-0 superblock (sizes of offsets and lengths 8, leaf and internal
 * node K, base address 0, undefined free-space address, end-of-file address, and the root
 * group's symbol table entry), padded to `size` bytes.
 */
export function hdf5File(size = 2048): Uint8Array {
  const undefinedAddress = new Array(8).fill(0xff);
  const le64 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff, 0, 0, 0, 0];
  const superblock = [
    0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a, // signature
    0, 0, 0, 0, 0, 8, 8, 0, // versions, sizes of offsets and lengths
    4, 0, 16, 0, // group leaf node K, group internal node K
    0, 0, 0, 0, // file consistency flags
    ...le64(0), // base address
    ...undefinedAddress, // free-space info address
    ...le64(size), // end-of-file address
    ...undefinedAddress, // driver information block address
    ...le64(0), ...le64(96), 1, 0, 0, 0, 0, 0, 0, 0, // root group symbol table entry
  ];
  const out = new Uint8Array(size);
  out.set(superblock);
  return out;
}

/** A pickle (protocol 2) of a small dict, as an old-style `torch.save` would begin. */
export function pickleBytes(): Uint8Array {
  // PROTO 2, EMPTY_DICT, BINUNICODE 'w', BININT1 1, SETITEM, STOP
  return Uint8Array.from([0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x77, 0x4b, 1, 0x73, 0x2e]);
}

/** A zip laid out as `torch.save` writes it since PyTorch 1.6: archive/data.pkl, version, tensor data. */
export function torchZip(): Uint8Array {
  return zipSync(
    {
      'archive/data.pkl': pickleBytes(),
      'archive/version': enc.encode('3\n'),
      'archive/data/0': new Uint8Array(new Float32Array([0.5, -1, 2, 0.25]).buffer),
    },
    { level: 0 },
  );
}

/** A Keras 3 `.keras` archive: metadata.json, config.json and model.weights.h5 in a zip. */
export function kerasArchive(): Uint8Array {
  return zipSync(
    {
      'metadata.json': enc.encode(JSON.stringify({ keras_version: '3.3.3', date_saved: '2024-05-01@12:00:00' })),
      'config.json': enc.encode(JSON.stringify({ module: 'keras', class_name: 'Sequential', config: { name: 'sequential', layers: [] } })),
      'model.weights.h5': hdf5File(),
    },
    { level: 0 },
  );
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function field(tag: number, wire: 0 | 2, value: number | Uint8Array): number[] {
  const key = varint((tag << 3) | wire);
  return typeof value === 'number' ? [...key, ...varint(value)] : [...key, ...varint(value.length), ...value];
}

/**
 * An ONNX ModelProto as protobuf bytes: ir_version 8, producer "pytorch" 2.1, opset 17, and a
 * graph with one Relu node from input "x" to output "y".
 */
export function onnxModel(): Uint8Array {
  const node = Uint8Array.from([...field(1, 2, enc.encode('x')), ...field(2, 2, enc.encode('y')), ...field(4, 2, enc.encode('Relu'))]);
  const graph = Uint8Array.from([...field(1, 2, node), ...field(2, 2, enc.encode('main_graph'))]);
  const opset = Uint8Array.from([...field(1, 2, enc.encode('')), ...field(2, 0, 17)]);
  return Uint8Array.from([
    ...field(1, 0, 8),
    ...field(2, 2, enc.encode('pytorch')),
    ...field(3, 2, enc.encode('2.1.0')),
    ...field(7, 2, graph),
    ...field(8, 2, opset),
  ]);
}

/** A SavedModel protobuf (saved_model.pb): schema version 1 and one MetaGraphDef with a tag. */
export function savedModelPb(): Uint8Array {
  const metaInfo = Uint8Array.from([...field(4, 2, enc.encode('serve'))]);
  const metaGraph = Uint8Array.from([...field(1, 2, metaInfo)]);
  return Uint8Array.from([...field(1, 0, 1), ...field(2, 2, metaGraph)]);
}

/** The start of a TFLite flatbuffer: a root table offset, then the "TFL3" identifier. */
export function tfliteModel(): Uint8Array {
  const out = new Uint8Array(64);
  out.set([0x1c, 0, 0, 0]);
  out.set(enc.encode('TFL3'), 4);
  return out;
}

/** A safetensors file with one float32 tensor "w" of shape [2]. */
export function safetensorsFile(): Uint8Array {
  const header = enc.encode(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = new Uint8Array(8);
  new DataView(len.buffer).setUint32(0, header.length, true);
  return concat([len, header, new Uint8Array(8)]);
}
