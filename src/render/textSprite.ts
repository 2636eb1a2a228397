/**
 * Text in the 3D scene without web fonts: the string is drawn into a 2D canvas with the local
 * system font stack and shown on a Sprite (always facing the camera). Labels are part of the
 * WebGL image, so PNG exports and pixel tests see them.
 */
import { CanvasTexture, LinearMipmapLinearFilter, SRGBColorSpace, Sprite, SpriteMaterial } from 'three';
import { SharedCache } from './sharedCache';
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

/** A label's texture and material, shared by every sprite showing the same text in the same style. */
interface CachedText {
  texture: CanvasTexture;
  /**
   * One material per label rather than per sprite: three.js works out and binds a program for
   * every new material on its first frame, and a new surface brings ~25 new labels.
   */
  material: SpriteMaterial;
  /** Canvas width / height. */
  aspect: number;
}

/**
 * Label textures by font, colour and text, one cache per scope (the renderer that draws
 * them): a new surface brings new axes with mostly the same labels, and drawing each string
 * into a canvas and uploading it (with mipmaps) again costs a few ms per label under a
 * software renderer. Textures are not shared between renderers: each renderer that uploads a
 * texture keeps a listener on it, so a figure's short-lived renderer would stay reachable from
 * the view's labels. Textures no sprite uses stay cached up to UNUSED_TEXTS per scope (least
 * recently used go first); each is ~100 KB of GPU memory at most.
 */
type TextCache = SharedCache<CachedText>;
const textCaches = new WeakMap<object, TextCache>();
/** The scope of callers that name none. */
const DEFAULT_SCOPE = {};
const UNUSED_TEXTS = 96;

function drawText(text: string, font: string, fontPx: number, color: string): CachedText {
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
  ctx.fillStyle = color;
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
  return { texture, material, aspect: canvas.width / height };
}

function freeText(e: CachedText): void {
  e.material.dispose();
  e.texture.dispose();
}

/**
 * A sprite showing `text`. The caller owns it: call `disposeTextSprite` when done (its
 * material and texture are shared within `scope`, by default one for the whole page, and
 * freed by the cache). `sprite.center` sets the anchor (0.5, 0.5 = centred on its position).
 */
export function makeTextSprite(text: string, style: TextStyle, scope: object = DEFAULT_SCOPE): Sprite {
  const fontPx = style.fontPx ?? 64;
  const font = `${style.weight ?? 400} ${fontPx}px ${FONT_FAMILY}`;
  let cache = textCaches.get(scope);
  if (!cache) textCaches.set(scope, (cache = new SharedCache(UNUSED_TEXTS, freeText)));
  const key = `${font}|${style.color}|${text}`;
  const entry = cache.acquire(key, () => drawText(text, font, fontPx, style.color));
  const sprite = new Sprite(entry.material);
  sprite.scale.set(style.height * entry.aspect, style.height, 1);
  // Labels draw last and on top: a tick label is never hidden behind the surface.
  sprite.renderOrder = 10;
  sprite.raycast = () => {};
  sprite.userData.text = text;
  sprite.userData.textKey = key;
  sprite.userData.textCache = cache;
  return sprite;
}

/** Releases a text sprite's (shared) material and texture; a second call does nothing. */
export function disposeTextSprite(sprite: Sprite): void {
  const key = sprite.userData.textKey as string | undefined;
  const cache = sprite.userData.textCache as TextCache | undefined;
  if (key === undefined || !cache) return;
  sprite.userData.textKey = undefined;
  cache.release(key);
}
