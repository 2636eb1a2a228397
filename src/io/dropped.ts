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

const FOREIGN: [RegExp, string][] = [
  [/\.(h5|hdf5|keras)$/i, 'a Keras model; convert it with `tensorflowjs_converter --input_format keras model.h5 out_dir/` and drop out_dir'],
  [/\.onnx$/i, 'an ONNX model; convert it to TensorFlow (onnx-tf) and then to TF.js with tensorflowjs_converter'],
  [/\.(pt|pth|ckpt)$/i, 'a PyTorch checkpoint; export it to ONNX, then convert to TensorFlow and TF.js'],
  [/\.pb$/i, 'a TensorFlow graph; convert it with `tensorflowjs_converter --input_format tf_saved_model`'],
  [/\.tflite$/i, 'a TensorFlow Lite model, which TF.js cannot run; convert the original model with tensorflowjs_converter'],
];

function baseName(name: string): string {
  return name.split('/').pop() ?? name;
}

/** Expands a zip with limits on size, entry count and paths (no absolute paths or '..'). */
export function unzipModel(zip: NamedBytes): NamedBytes[] {
  let total = 0;
  let entries = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip.bytes, {
      filter: (f) => {
        entries++;
        if (entries > MAX_ZIP_ENTRIES) throw new Error(`${zip.name} holds more than ${MAX_ZIP_ENTRIES} files`);
        if (f.name.startsWith('/') || f.name.split(/[\\/]/).includes('..')) throw new Error(`${zip.name} contains the unsafe path '${f.name}'`);
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
  // The produced sizes must match what the headers declared (fflate checks CRC; be explicit anyway).
  if (out.reduce((n, f) => n + f.bytes.byteLength, 0) > MAX_UNZIPPED_BYTES) throw new Error(`${zip.name} expands beyond the limit.`);
  return out;
}

/** Decides what a set of dropped files is. */
export function classifyDrop(files: NamedBytes[]): DropKind {
  if (files.length === 0) return { kind: 'unsupported', reason: 'Nothing was dropped.' };
  const zips = files.filter((f) => /\.zip$/i.test(f.name));
  if (zips.length === 1 && files.length === 1) {
    const inner = unzipModel(zips[0]);
    const kind = classifyDrop(inner);
    return kind.kind === 'model' ? { ...kind, label: zips[0].name } : kind;
  }
  const json = files.filter((f) => /\.json$/i.test(f.name));
  if (json.length > 0) {
    const model = json.find((f) => baseName(f.name) === 'model.json') ?? json[0];
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
    for (const [re, what] of FOREIGN) {
      if (re.test(f.name)) return { kind: 'unsupported', reason: `${baseName(f.name)} is ${what}.` };
    }
  }
  if (files.every((f) => /\.bin$/i.test(f.name))) {
    return { kind: 'unsupported', reason: 'Only weight files (.bin) were dropped; drop them together with their model.json.' };
  }
  return { kind: 'unsupported', reason: `${files.map((f) => baseName(f.name)).join(', ')}: not a TF.js model (model.json + .bin), a .zip of one, a PNG/JPEG image or a .npy array.` };
}

