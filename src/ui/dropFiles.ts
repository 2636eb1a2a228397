/**
 * Reading what the user dropped or picked (DOM: DataTransfer, FileList), into named bytes for
 * io/dropped.ts to classify.
 */
import type { NamedBytes } from '../io/dropped';

/** Reads a drop's DataTransfer, walking dropped folders. */
export async function readDataTransfer(dt: DataTransfer): Promise<NamedBytes[]> {
  const out: NamedBytes[] = [];
  const entries = Array.from(dt.items)
    .map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null))
    .filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) {
    for (const f of Array.from(dt.files)) out.push({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
    return out;
  }
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ name: prefix + file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
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
  return out;
}

/** Reads files from an <input type=file> (with webkitRelativePath for folders). */
export async function readFileList(list: FileList): Promise<NamedBytes[]> {
  return Promise.all(Array.from(list).map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}
