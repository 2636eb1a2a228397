import { memo, useEffect, useRef } from 'react';

/**
 * A grayscale image ([H, W] values in [0, 1]) drawn pixel for pixel and scaled with CSS.
 * Memoised: a parent re-render with the same `values` array redraws nothing.
 */
export const Thumb = memo(function Thumb({ values, width, height, size, title, className }: { values: ArrayLike<number>; width: number; height: number; size: number; title?: string; className?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    // A CPU-backed canvas is painted with the rest of the panel. A GPU-backed one (Chromium's
    // default) is a composited layer of its own, and so is every label painted after it: the 60
    // thumbnails made ~110 layers, and re-layerizing and committing them cost the main thread
    // ~75 ms per new sample under a software GPU, on the two cores the engine needs.
    const ctx = canvas?.getContext('2d', { willReadFrequently: true });
    if (!canvas || !ctx) return;
    const img = ctx.createImageData(width, height);
    for (let p = 0; p < width * height; p++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, values[p])));
      img.data[4 * p] = v;
      img.data[4 * p + 1] = v;
      img.data[4 * p + 2] = v;
      img.data[4 * p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [values, width, height]);
  return <canvas ref={ref} width={width} height={height} className={`thumb ${className ?? ''}`} style={{ width: size, height: size }} title={title} />;
});
