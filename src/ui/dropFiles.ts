/**
 * Reading what the user dropped or picked (DOM: DataTransfer, FileList), into named bytes for
 * io/dropped.ts to classify.
 */
import type { NamedBytes } from '../io/dropped';

/**
 * Largest single file read into memory (1 GiB). Everything Ravine accepts is smaller: model
 * weights up to 512 MiB (io/modelFiles.ts), zips expanding to 600 MiB (io/dropped.ts), images
 * up to 20 MB, .npy samples up to 256 MiB as float32 (io/dataset.ts). A bigger file is refused
 * from its size before a byte is read, so dropping a disk image cannot exhaust the tab.
 */
export const MAX_DROPPED_FILE_BYTES = 2 ** 30;
/** Largest drop in total (2 GiB): a folder with a model and, say, the original Keras file. */
export const MAX_DROP_BYTES = 2 ** 31;

function sizeText(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Throws, naming the file, when a file or the whole drop is over the limits above. */
export function checkDropSizes(files: readonly { name: string; size: number }[]): void {
  let total = 0;
  for (const { name, size } of files) {
    if (size > MAX_DROPPED_FILE_BYTES) throw new Error(`${name} is ${sizeText(size)}; Ravine reads files up to ${sizeText(MAX_DROPPED_FILE_BYTES)}, and nothing it loads is larger.`);
    total += size;
  }
  if (total > MAX_DROP_BYTES) throw new Error(`the ${files.length} files add up to ${sizeText(total)}; Ravine reads up to ${sizeText(MAX_DROP_BYTES)} at once.`);
}

/** Reads files after checking their sizes (one and all together), before a byte is read. */
async function readAll(files: { name: string; file: File }[]): Promise<NamedBytes[]> {
  checkDropSizes(files.map(({ name, file }) => ({ name, size: file.size })));
  return Promise.all(files.map(async ({ name, file }) => ({ name, bytes: new Uint8Array(await file.arrayBuffer()) })));
}

/** Reads a drop's DataTransfer, walking dropped folders. */
export async function readDataTransfer(dt: DataTransfer): Promise<NamedBytes[]> {
  const entries = Array.from(dt.items)
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) return readAll(Array.from(dt.files, (f) => ({ name: f.name, file: f })));
  const found: { name: string; file: File }[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      found.push({ name: prefix + file.name, file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      let batch: FileSystemEntry[];
      do {
        batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      } while (batch.length > 0);
    }
  };
  for (const e of entries) await walk(e, '');
  return readAll(found);
}

/** Reads files from an <input type=file> (with webkitRelativePath for folders). */
export async function readFileList(list: FileList): Promise<NamedBytes[]> {
  return readAll(Array.from(list, (f) => ({ name: f.webkitRelativePath || f.name, file: f })));
}
