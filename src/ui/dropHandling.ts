/**
 * What happens to dropped or picked files: models go to the active slot, images and .npy
 * arrays become the sample. Every failure is a notice naming the problem; nothing loaded
 * before is lost.
 */
import { classifyDrop, type NamedBytes } from '../io/dropped';
import { imageToInput } from '../io/images';
import { parseNpy } from '../io/npy';
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
      const arr = parseNpy(kind.file.bytes, kind.file.name);
      const size = model.inputShape.reduce((a, b) => a * b, 1);
      if (arr.data.length < size || arr.data.length % size !== 0) {
        throw new Error(`${kind.file.name} holds ${arr.data.length} values (shape [${arr.shape.join(', ')}]); the model needs ${size} per sample ([${model.inputShape.join(', ')}]).`);
      }
      if (arr.dtype === 'int32') throw new Error(`${kind.file.name} holds integers other than uint8; save images as uint8 (0–255) or float32 (0–1).`);
      const scale = arr.dtype === 'uint8' ? 1 / 255 : 1;
      const x = Float32Array.from(arr.data, (v) => v * scale);
      const bad = x.findIndex((v) => !Number.isFinite(v) || v < -1e-6 || v > 1 + 1e-6);
      if (bad >= 0) throw new Error(`${kind.file.name} has value ${x[bad]} at index ${bad}, outside the model's input range [0, 1] (float32 images must be scaled to 0–1).`);
      const count = x.length / size;
      let labels: Int32Array | null = null;
      if (kind.labels) {
        const y = parseNpy(kind.labels.bytes, kind.labels.name);
        if (y.dtype === 'float32') throw new Error(`${kind.labels.name}: labels must be integers; got float32.`);
        if (y.data.length < count) throw new Error(`${kind.labels.name} has ${y.data.length} labels for ${count} images in ${kind.file.name}.`);
        labels = Int32Array.from(y.data.subarray(0, count));
        const out = labels.findIndex((v) => v < 0 || v >= model.numClasses);
        if (out >= 0) throw new Error(`${kind.labels.name}: label ${labels[out]} of image ${out} is outside the model's classes 0–${model.numClasses - 1}.`);
      }
      if (count > 1) setUserSet({ name: kind.file.name, x, labels, size, count });
      setCustomSample({ name: count > 1 ? `${kind.file.name} #0` : kind.file.name, x: x.slice(0, size), label: labels ? labels[0] : label });
    }
  } catch (e) {
    notify('error', (e as Error).message);
  }
}
