/**
 * Images a user drops become samples: decoded, converted to the model's input shape and range
 * (grayscale for one channel, bilinear resize to H × W), shown as the model sees them.
 */

/** Files larger than this are refused before decoding (a 20 MB PNG is already a huge photo). */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/**
 * Images with more pixels than this are refused from their header, before decoding: a decoded
 * 40-megapixel image already takes 160 MB of RGBA, and a sample is downscaled to the model's
 * input (28 × 28 for MNIST) anyway.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;
/**
 * Longest side accepted. Chrome and Firefox refuse canvases and bitmaps beyond 32,767 pixels
 * per side, so a 1 × 40,000,000 strip would fail inside the decoder instead of with a message.
 */
export const MAX_IMAGE_SIDE = 32_767;

export class ImageInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageInputError';
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Which of the two accepted formats the first bytes announce (null: neither). */
export function imageType(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Reads width and height from a PNG or JPEG header without decoding the pixels; null when the
 * bytes are not one of them or the header is damaged (no IHDR first, no frame header).
 */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number; type: 'png' | 'jpeg' } | null {
  const type = imageType(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === 'png') {
    // The first chunk must be IHDR (length 13): width and height are its first 8 bytes.
    if (bytes.length < 24 || view.getUint32(8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
    return { width: view.getUint32(16), height: view.getUint32(20), type };
  }
  if (type === 'jpeg') {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1];
      // Fill bytes (0xFF 0xFF) and markers without a length (RSTn, TEM) carry no segment.
      if (marker === 0xff) {
        i += 1;
        continue;
      }
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i += 2;
        continue;
      }
      const len = (bytes[i + 2] << 8) | bytes[i + 3];
      if (len < 2) return null;
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8], type };
      }
      i += 2 + len;
    }
  }
  return null;
}

/**
 * Checks an image file from its size and header alone (no decoding) and returns its
 * dimensions; throws an {@link ImageInputError} naming the file and the problem.
 */
export function checkImageFile(name: string, bytes: Uint8Array): { width: number; height: number; type: 'png' | 'jpeg' } {
  if (bytes.byteLength > MAX_IMAGE_BYTES) throw new ImageInputError(`${name} is ${(bytes.byteLength / 2 ** 20).toFixed(1)} MB; images up to ${MAX_IMAGE_BYTES / 2 ** 20} MB are accepted.`);
  const type = imageType(bytes);
  if (!type) throw new ImageInputError(`${name} is not a PNG or JPEG image (its first bytes do not match either format).`);
  const dims = imageDimensions(bytes);
  if (!dims) throw new ImageInputError(`${name} is a damaged ${type.toUpperCase()}: its header does not give the image size.`);
  if (dims.width === 0 || dims.height === 0) throw new ImageInputError(`${name} is ${dims.width} × ${dims.height} pixels: it has no pixels to use.`);
  if (dims.width * dims.height > MAX_IMAGE_PIXELS || Math.max(dims.width, dims.height) > MAX_IMAGE_SIDE) {
    throw new ImageInputError(
      `${name} is ${dims.width} × ${dims.height} pixels; Ravine decodes images up to ${MAX_IMAGE_PIXELS / 1e6} megapixels and ${MAX_IMAGE_SIDE} pixels a side. Downscale it first.`,
    );
  }
  return dims;
}

/**
 * Decodes an image file and converts it to `[H, W, C]` values in [lo, hi] (C = 1: luminance;
 * C = 3: RGB). Browser only (createImageBitmap + OffscreenCanvas).
 */
export async function imageToInput(name: string, bytes: Uint8Array, shape: readonly number[], range: readonly [number, number]): Promise<Float32Array> {
  const dims = checkImageFile(name, bytes);
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
