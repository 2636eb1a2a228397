import { describe, expect, it, vi } from 'vitest';
import { CAMERA_PRESETS, createCameraLink, presetPose } from './camera';

describe('camera presets', () => {
  it('offers iso, along-d1, along-d2 and top', () => {
    expect([...CAMERA_PRESETS]).toEqual(['iso', 'along-d1', 'along-d2', 'top']);
  });

  it('puts the camera where each preset says (world: a = +x, b = −z, up = +y)', () => {
    const rel = (p: ReturnType<typeof presetPose>) => p.position.map((v, k) => v - p.target[k]);
    // along-d1: in front (+z), nearly level, so a runs across the screen.
    const d1 = rel(presetPose('along-d1'));
    expect(Math.abs(d1[0])).toBeLessThan(1e-9);
    expect(d1[2]).toBeGreaterThan(4 * Math.abs(d1[1]));
    // along-d2: on the +x side, b runs across the screen.
    const d2 = rel(presetPose('along-d2'));
    expect(d2[0]).toBeGreaterThan(4 * Math.abs(d2[1]));
    expect(Math.abs(d2[2])).toBeLessThan(1e-9);
    // top: straight above, a hair towards +z so screen-up is +b.
    const top = rel(presetPose('top'));
    expect(top[1]).toBeGreaterThan(100 * Math.hypot(top[0], top[2]));
    expect(top[2]).toBeGreaterThan(0);
    // iso: above, in front, on the −a side.
    const iso = rel(presetPose('iso'));
    expect(iso[0]).toBeLessThan(0);
    expect(iso[1]).toBeGreaterThan(0);
    expect(iso[2]).toBeGreaterThan(0);
  });

  it('flattens the plan view: 3× further back, 3× zoom; the others unzoomed', () => {
    expect(presetPose('top').zoom).toBe(3);
    for (const p of ['iso', 'along-d1', 'along-d2'] as const) expect(presetPose(p).zoom).toBe(1);
  });

  it('backs off on narrow canvases', () => {
    const dist = (p: ReturnType<typeof presetPose>) => Math.hypot(...p.position.map((v, k) => v - p.target[k]));
    expect(dist(presetPose('iso', 0.5))).toBeGreaterThan(dist(presetPose('iso', 16 / 9)));
    // At or above an aspect of 1.4 the base distance frames everything; below it the camera backs off.
    expect(dist(presetPose('iso', 16 / 9))).toBeCloseTo(dist(presetPose('iso', 1.4)), 9);
    expect(dist(presetPose('iso', 4 / 3))).toBeGreaterThan(dist(presetPose('iso', 1.4)));
  });
});

describe('createCameraLink', () => {
  const pose = (x: number) => ({ position: [x, 1, 2] as [number, number, number], target: [0, 0, 0] as [number, number, number] });

  it('holds the last pose and tells every listener with its source', () => {
    const link = createCameraLink();
    expect(link.get()).toBeNull();
    const a = vi.fn();
    const b = vi.fn();
    link.subscribe(a);
    const unsubscribe = link.subscribe(b);
    link.set(pose(3), 'view-1');
    expect(link.get()).toEqual(pose(3));
    expect(a).toHaveBeenCalledWith(pose(3), 'view-1');
    expect(b).toHaveBeenCalledTimes(1);
    unsubscribe();
    link.set(pose(4), 'view-2');
    expect(a).toHaveBeenCalledTimes(2);
    expect(b).toHaveBeenCalledTimes(1);
  });

  it('ignores an unchanged pose (no ping-pong between linked views) and copies state', () => {
    const link = createCameraLink(pose(1));
    const l = vi.fn();
    link.subscribe(l);
    link.set(pose(1), 'x');
    expect(l).not.toHaveBeenCalled();
    const got = link.get()!;
    got.position[0] = 99;
    expect(link.get()!.position[0]).toBe(1);
  });

  it('lets a listener that writes back settle instead of looping', () => {
    const link = createCameraLink();
    let calls = 0;
    link.subscribe((s, source) => {
      calls++;
      if (source !== 'echo') link.set(s, 'echo');
    });
    link.set(pose(2), 'user');
    expect(calls).toBe(1);
  });
});
