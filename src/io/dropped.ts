/**
 * Sorting out what a user dropped or picked: model files (loose, a folder, or a .zip), an
 * image, a .npy sample, or something we recognise but cannot use (with advice).
 */
import { unzipSync } from 'fflate';

export interface NamedBytes {
  /** Path inside the drop (folder/file.bin) or the file name. */
  name: string;
  bytes: Uint8Array;
}

export type DropKind =
  | { kind: 'model'; files: NamedBytes[]; label: string }
  | { kind: 'image'; file: NamedBytes }
  | { kind: 'npy'; file: NamedBytes; labels?: NamedBytes }
  | { kind: 'unsupported'; reason: string };

/** Unzipped bytes we accept from one archive (a zip bomb stops here). */
export const MAX_UNZIPPED_BYTES = 600 * 1024 * 1024;
/** Entries we accept in one archive. */
export const MAX_ZIP_ENTRIES = 2000;

/**
 * Model formats we recognise by name but cannot run, with what to do instead. Conversions go
 * through tensorflowjs_converter (pip install tensorflowjs): `keras` reads .h5, `keras_keras`
 * reads Keras 3 .keras archives, `tf_saved_model` reads a SavedModel folder and writes a
 * graph model, which Ravine loads.
 */
const KERAS_H5 = 'a Keras model in HDF5 format; convert it with `tensorflowjs_converter --input_format keras model.h5 out_dir/` and drop out_dir';
const KERAS_V3 = 'a Keras 3 model archive (.keras); convert it with `tensorflowjs_converter --input_format keras_keras model.keras out_dir/` and drop out_dir';
const ONNX = 'an ONNX model; convert it to a TensorFlow SavedModel (onnx2tf or onnx-tf), then run `tensorflowjs_converter --input_format tf_saved_model saved_model_dir/ out_dir/` and drop out_dir';
const PYTORCH = 'a PyTorch checkpoint (torch.save); export the model with torch.onnx.export, convert the ONNX file to a TensorFlow SavedModel (onnx2tf), then run `tensorflowjs_converter --input_format tf_saved_model`';
const TF_PB = 'a TensorFlow protobuf (SavedModel or frozen graph); convert its SavedModel folder with `tensorflowjs_converter --input_format tf_saved_model saved_model_dir/ out_dir/` and drop out_dir';
const TFLITE = 'a TensorFlow Lite model, which TF.js cannot run; convert the original model with tensorflowjs_converter';
const SAFETENSORS = 'a safetensors weight file (weights only, no architecture); Ravine needs a TF.js model (model.json + .bin), made from the full model with tensorflowjs_converter';
const PICKLE = 'a Python pickle (an old-style torch.save checkpoint?); Python objects are never loaded here. Export the model to ONNX and convert it as for PyTorch';

const FOREIGN: [RegExp, string][] = [
  [/\.(h5|hdf5)$/i, KERAS_H5],
  [/\.keras$/i, KERAS_V3],
  [/\.onnx$/i, ONNX],
  [/\.(pt|pth|ckpt)$/i, PYTORCH],
  [/\.pb$/i, TF_PB],
  [/\.tflite$/i, TFLITE],
  [/\.safetensors$/i, SAFETENSORS],
  [/\.(pkl|pickle)$/i, PICKLE],
];

function baseName(name: string): string {
  return name.split('/').pop() ?? name;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

/** Entry names of a zip from its central directory, without inflating anything (null: not a readable zip). */
function zipEntryNames(bytes: Uint8Array): string[] | null {
  const names: string[] = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        if (names.length < MAX_ZIP_ENTRIES) names.push(f.name);
        return false;
      },
    });
  } catch {
    return null;
  }
  return names;
}

/** A zip that is a Keras 3 archive or a PyTorch checkpoint, from its entry names. */
function foreignArchive(names: readonly string[]): string | null {
  const bases = names.map(baseName);
  if (bases.includes('model.weights.h5') || (bases.includes('metadata.json') && bases.includes('config.json') && bases.some((b) => b.endsWith('.h5')))) return KERAS_V3;
  if (bases.includes('data.pkl')) return PYTORCH;
  return null;
}

/**
 * What a file is when its first bytes give it away as a model format we cannot run (HDF5,
 * a Keras 3 or PyTorch zip, a pickle, ONNX, TFLite, safetensors); null otherwise. Reads
 * headers only: nothing is inflated, parsed or evaluated.
 */
export function sniffForeignModel(bytes: Uint8Array): string | null {
  // HDF5 puts its superblock at 0, 512, 1024 or 2048 (a user block may come first).
  if ([0, 512, 1024, 2048].some((at) => startsWith(bytes, HDF5_MAGIC, at))) return KERAS_H5;
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    const names = zipEntryNames(bytes);
    return names ? foreignArchive(names) : null;
  }
  // Pickle protocols 2..5 begin with PROTO (0x80) and the protocol number.
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return PICKLE;
  if (startsWith(bytes, [0x54, 0x46, 0x4c, 0x33], 4)) return TFLITE; // "TFL3" after the root offset
  // ONNX ModelProto: field 1 (ir_version, varint 1..20), then field 2 (producer_name) as a
  // short printable string, e.g. 08 07 12 07 "pytorch".
  if (bytes.length >= 6 && bytes[0] === 0x08 && bytes[1] >= 1 && bytes[1] <= 20 && bytes[2] === 0x12) {
    const len = bytes[3];
    if (len > 0 && len < 64 && bytes.length >= 4 + len && bytes.subarray(4, 4 + len).every((b) => b >= 0x20 && b < 0x7f)) return ONNX;
  }
  // safetensors: an 8-byte little-endian header length, then a JSON object.
  if (bytes.length >= 10 && bytes[8] === 0x7b && bytes[9] === 0x22) {
    const head = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const n = head.getUint32(0, true) + 2 ** 32 * head.getUint32(4, true);
    if (n > 1 && n <= bytes.length - 8) return SAFETENSORS;
  }
  return null;
}

/** Why a file is a model we cannot use: from its content first, then from its name. */
function foreignModel(file: NamedBytes): string | null {
  const sniffed = sniffForeignModel(file.bytes);
  if (sniffed) return sniffed;
  for (const [re, what] of FOREIGN) if (re.test(file.name)) return what;
  return null;
}

/**
 * Expands a zip with limits on size, entry count and paths (no absolute paths, drive letters
 * or '..'). Sizes are checked from the central directory before an entry is inflated.
 */
export function unzipModel(zip: NamedBytes): NamedBytes[] {
  let total = 0;
  let entries = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip.bytes, {
      filter: (f) => {
        entries++;
        if (entries > MAX_ZIP_ENTRIES) throw new Error(`${zip.name} holds more than ${MAX_ZIP_ENTRIES} files`);
        if (/^([\\/]|[a-zA-Z]:)/.test(f.name) || f.name.split(/[\\/]/).includes('..')) throw new Error(`${zip.name} contains the unsafe path '${f.name}'`);
        total += f.originalSize;
        if (total > MAX_UNZIPPED_BYTES) throw new Error(`${zip.name} expands to more than ${MAX_UNZIPPED_BYTES / 2 ** 20} MiB (a zip bomb?)`);
        return !f.name.endsWith('/') && !baseName(f.name).startsWith('.');
      },
    });
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.includes(zip.name) ? `${msg}; nothing was loaded.` : `${zip.name} is not a readable zip archive (${msg}).`, { cause: e });
  }
  const out = Object.entries(files).map(([name, bytes]) => ({ name, bytes }));
  // fflate sizes each entry's output from the size its header declares, so an entry whose
  // header under-declares is cut short there (and then fails the shard-size check), never
  // inflated further; the sum is checked again anyway.
  if (out.reduce((n, f) => n + f.bytes.byteLength, 0) > MAX_UNZIPPED_BYTES) throw new Error(`${zip.name} expands beyond the limit.`);
  return out;
}

/** Decides what a set of dropped files is. */
export function classifyDrop(files: NamedBytes[]): DropKind {
  if (files.length === 0) return { kind: 'unsupported', reason: 'Nothing was dropped.' };
  const zips = files.filter((f) => /\.zip$/i.test(f.name));
  if (zips.length === 1 && files.length === 1) {
    // A Keras 3 or PyTorch archive renamed to .zip: say so before expanding anything.
    const names = zipEntryNames(zips[0].bytes);
    const archive = names && foreignArchive(names);
    if (archive) return { kind: 'unsupported', reason: `${baseName(zips[0].name)} is ${archive}.` };
    const inner = unzipModel(zips[0]);
    const kind = classifyDrop(inner);
    return kind.kind === 'model' ? { ...kind, label: zips[0].name } : kind;
  }
  const json = files.filter((f) => /\.json$/i.test(f.name));
  if (json.length > 0) {
    const model = json.find((f) => baseName(f.name) === 'model.json') ?? json[0];
    const foreign = sniffForeignModel(model.bytes);
    if (foreign) return { kind: 'unsupported', reason: `${baseName(model.name)} is not JSON: it is ${foreign}.` };
    const folder = model.name.includes('/') ? model.name.split('/').slice(-2, -1)[0] : '';
    return { kind: 'model', files, label: folder ? `${folder}/${baseName(model.name)}` : baseName(model.name) };
  }
  if (files.length === 1 && /\.(png|jpe?g)$/i.test(files[0].name)) return { kind: 'image', file: files[0] };
  if (files.length === 1 && /\.npy$/i.test(files[0].name)) return { kind: 'npy', file: files[0] };
  if (files.length === 2 && files.every((f) => /\.npy$/i.test(f.name))) {
    // Images and labels: the larger file holds the images.
    const [big, small] = [...files].sort((p, q) => q.bytes.byteLength - p.bytes.byteLength);
    return { kind: 'npy', file: big, labels: small };
  }
  for (const f of files) {
    const what = foreignModel(f);
    if (what) return { kind: 'unsupported', reason: `${baseName(f.name)} is ${what}.` };
  }
  if (files.every((f) => /\.bin$/i.test(f.name))) {
    return { kind: 'unsupported', reason: 'Only weight files (.bin) were dropped; drop them together with their model.json.' };
  }
  return { kind: 'unsupported', reason: `${files.map((f) => baseName(f.name)).join(', ')}: not a TF.js model (model.json + .bin), a .zip of one, a PNG/JPEG image or a .npy array.` };
}

