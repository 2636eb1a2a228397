/**
 * What happens to dropped or picked files: models go to the active slot, images and .npy
 * arrays become the sample. Every failure is a notice naming the problem; nothing loaded
 * before is lost.
 */
import { userSamplesFromNpy } from '../io/dataset';
import { classifyDrop, type NamedBytes } from '../io/dropped';
import { imageToInput } from '../io/images';
import { readFileList } from './dropFiles';
import { loadUserModel, setCustomSample, setUserSet } from '../state/lab';
import { useLab } from '../state/store';

function activeModel() {
  const s = useLab.getState();
  return s.models[s.config.active].info;
}

export async function handleDroppedFiles(files: NamedBytes[]): Promise<void> {
  const notify = useLab.getState().notify;
  let kind;
  try {
    kind = classifyDrop(files);
  } catch (e) {
    notify('error', (e as Error).message);
    return;
  }
  if (kind.kind === 'unsupported') {
    notify('error', kind.reason);
    return;
  }
  if (kind.kind === 'model') {
    await loadUserModel(kind.files, kind.label);
    return;
  }
  const model = activeModel();
  if (!model) {
    notify('error', 'Load a model first: a sample is converted to the model’s input shape.');
    return;
  }
  const label = Math.min(useLab.getState().customSample?.label ?? 0, model.numClasses - 1);
  try {
    if (kind.kind === 'image') {
      const x = await imageToInput(kind.file.name, kind.file.bytes, model.inputShape, [0, 1]);
      setCustomSample({ name: kind.file.name, x, label });
    } else {
      const { x, labels, size, count } = userSamplesFromNpy(kind.file, kind.labels, model.inputShape, model.numClasses);
      if (count > 1) setUserSet({ name: kind.file.name, x, labels, size, count });
      setCustomSample({ name: count > 1 ? `${kind.file.name} #0` : kind.file.name, x: x.slice(0, size), label: labels ? labels[0] : label });
    }
  } catch (e) {
    notify('error', (e as Error).message);
  }
}

/**
 * Reads and handles files picked with an <input type=file>; a file that cannot be read (too
 * large, gone from disk) becomes a notice like any other problem, never an unhandled error.
 */
export async function handlePickedFiles(list: FileList): Promise<void> {
  let files: NamedBytes[];
  try {
    files = await readFileList(list);
  } catch (e) {
    useLab.getState().notify('error', `The chosen files could not be read: ${(e as Error).message}`);
    return;
  }
  await handleDroppedFiles(files);
}
