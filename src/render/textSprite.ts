/**
 * Text in the 3D scene without web fonts: the string is drawn into a 2D canvas with the local
 * system font stack and shown on a Sprite (always facing the camera). Labels are part of the
 * WebGL image, so PNG exports and pixel tests see them.
 */
import { CanvasTexture, LinearMipmapLinearFilter, SRGBColorSpace, Sprite, SpriteMaterial } from 'three';
import { FONT_FAMILY } from './theme';

export interface TextStyle {
  color: string;
  /** Height of the text line in world units (with sizeAttenuation, it scales with distance). */
  height: number;
  /** CSS font weight. */
  weight?: number;
  /**
   * Font size in canvas pixels. 64 px keeps labels sharp when a label fills ~40 screen pixels
   * on a 2× display; bigger only costs texture memory.
   */
  fontPx?: number;
}

/** Horizontal padding around the text, as a fraction of the font size (room for antialiasing). */
const PAD = 0.15;

/**
 * A sprite showing `text`. The caller owns it: call `disposeTextSprite` (material and
 * texture) when done. `sprite.center` sets the anchor (0.5, 0.5 = centred on its position).
 */
export function makeTextSprite(text: string, style: TextStyle): Sprite {
  const fontPx = style.fontPx ?? 64;
  const font = `${style.weight ?? 400} ${fontPx}px ${FONT_FAMILY}`;
  const canvas = document.createElement('canvas');
  let ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('2D canvas is not available for text labels.');
  ctx.font = font;
  const width = Math.ceil(ctx.measureText(text).width + 2 * PAD * fontPx);
  const height = Math.ceil(fontPx * 1.3);
  canvas.width = Math.max(1, width);
  canvas.height = height;
  // Resizing the canvas resets its state.
  ctx = canvas.getContext('2d')!;
  ctx.font = font;
  ctx.fillStyle = style.color;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'center';
  ctx.fillText(text, canvas.width / 2, height / 2 + fontPx * 0.04);
  const texture = new CanvasTexture(canvas);
  texture.colorSpace = SRGBColorSpace;
  // Labels are drawn several times smaller than their canvas: mipmaps keep them from shimmering.
  texture.minFilter = LinearMipmapLinearFilter;
  texture.generateMipmaps = true;
  texture.needsUpdate = true;
  const material = new SpriteMaterial({ map: texture, transparent: true, depthTest: false, depthWrite: false });
  const sprite = new Sprite(material);
  sprite.scale.set((style.height * canvas.width) / height, style.height, 1);
  // Labels draw last and on top: a tick label is never hidden behind the surface.
  sprite.renderOrder = 10;
  sprite.raycast = () => {};
  sprite.userData.text = text;
  return sprite;
}

/** Frees a text sprite's texture and material. */
export function disposeTextSprite(sprite: Sprite): void {
  sprite.material.map?.dispose();
  sprite.material.dispose();
}
