/**
 * Images a user drops become samples: decoded, converted to the model's input shape and range
 * (grayscale for one channel, bilinear resize to H × W), shown as the model sees them.
 */

/** Files larger than this are refused before decoding (a 20 MB PNG is already a huge photo). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Decoded images larger than this many pixels are refused (decoding would take seconds and GBs). */
export const MAX_IMAGE_PIXELS = 40_000_000;

export class ImageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

/** Reads width and height from a PNG or JPEG header without decoding the pixels. */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number; type: 'png' | 'jpeg' } | null {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20), type: 'png' };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1];
      const len = (bytes[i + 2] << 8) | bytes[i + 3];
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8], type: 'jpeg' };
      }
      i += 2 + len;
    }
  }
  return null;
}

/**
 * Decodes an image file and converts it to `[H, W, C]` values in [lo, hi] (C = 1: luminance;
 * C = 3: RGB). Browser only (createImageBitmap + OffscreenCanvas).
 */
export async function imageToInput(name: string, bytes: Uint8Array, shape: readonly number[], range: readonly [number, number]): Promise<Float32Array> {
  if (bytes.byteLength > MAX_IMAGE_BYTES) throw new ImageInputError(`${name} is ${(bytes.byteLength / 2 ** 20).toFixed(1)} MB; images up to ${MAX_IMAGE_BYTES / 2 ** 20} MB are accepted.`);
  const dims = imageDimensions(bytes);
  if (!dims) throw new ImageInputError(`${name} is not a PNG or JPEG image (its first bytes do not match either format).`);
  if (dims.width * dims.height > MAX_IMAGE_PIXELS) {
    throw new ImageInputError(`${name} is ${dims.width} × ${dims.height} pixels; Ravine decodes images up to ${MAX_IMAGE_PIXELS / 1e6} megapixels. Downscale it first.`);
  }
  if (shape.length !== 3 || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new ImageInputError(`The model's input shape [${shape.join(', ')}] is not an image (expected [H, W, 1] or [H, W, 3]).`);
  }
  const [h, w, c] = shape;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: `image/${dims.type}` }), { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
  } catch {
    throw new ImageInputError(`${name} could not be decoded; the file is damaged or not really a ${dims.type.toUpperCase()}.`);
  }
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new ImageInputError('This browser cannot draw images off-screen.');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const out = new Float32Array(h * w * c);
  const [lo, hi] = range;
  for (let p = 0; p < h * w; p++) {
    const r = rgba[4 * p];
    const g = rgba[4 * p + 1];
    const b = rgba[4 * p + 2];
    const a = rgba[4 * p + 3] / 255;
    if (c === 1) {
      // Rec. 709 luma; transparent pixels count as black background (MNIST's convention).
      const y = (0.2126 * r + 0.7152 * g + 0.0722 * b) * a;
      out[p] = lo + ((hi - lo) * y) / 255;
    } else {
      out[3 * p] = lo + ((hi - lo) * r * a) / 255;
      out[3 * p + 1] = lo + ((hi - lo) * g * a) / 255;
      out[3 * p + 2] = lo + ((hi - lo) * b * a) / 255;
    }
  }
  return out;
}
