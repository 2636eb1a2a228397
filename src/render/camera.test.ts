import { describe, expect, it, vi } from 'vitest';
import { aspectOf, CAMERA_PRESETS, createCameraLink, presetPose, reframePose, type CameraState } from './camera';

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

  it('aspectOf: width / height, and 4:3 for a view with no size yet (either side 0)', () => {
    expect(aspectOf(1280, 800)).toBe(1.6);
    expect(aspectOf(0, 800)).toBe(4 / 3);
    expect(aspectOf(640, 0)).toBe(4 / 3);
    expect(presetPose('iso', aspectOf(0, 0))).toEqual(presetPose('iso'));
  });
});

describe('reframePose', () => {
  const rel = (p: CameraState) => p.position.map((v, k) => v - p.target[k]);
  const dist = (p: CameraState) => Math.hypot(...rel(p));

  it('takes a preset framed for one aspect to the same preset framed for another', () => {
    for (const preset of CAMERA_PRESETS) {
      for (const [from, to] of [[0.49, 1.0], [0.49, 2], [1.07, 0.9], [2.14, 1.07], [16 / 9, 0.5]]) {
        const got = reframePose(presetPose(preset, from), from, to);
        const want = presetPose(preset, to);
        for (const k of [0, 1, 2]) {
          expect(got.position[k]).toBeCloseTo(want.position[k], 9);
          expect(got.target[k]).toBeCloseTo(want.target[k], 9);
        }
        expect(got.zoom).toBe(want.zoom);
      }
    }
  });

  it("keeps the user's orbit (target, direction, zoom) and dolly relative to the preset", () => {
    const pose: CameraState = { position: [1.5, 4.2, -3.1], target: [0.2, 0.1, -0.3], zoom: 1.7 };
    // A tall view (0.49) into a square panel: the camera comes closer by 1.4/0.49 over 1.4/1.
    const got = reframePose(pose, 0.49, 1);
    expect(got.target).toEqual(pose.target);
    expect(got.zoom).toBe(1.7);
    expect(dist(got) / dist(pose)).toBeCloseTo(0.49, 9);
    const [u, v] = [rel(got), rel(pose)];
    for (const k of [0, 1, 2]) expect(u[k] / dist(got)).toBeCloseTo(v[k] / dist(pose), 9);
    // From 1.4 up the height frames the view: wide to wider changes nothing.
    expect(reframePose(pose, 1.5, 2)).toEqual(pose);
    // No aspect to go by: the pose stays.
    expect(reframePose(pose, 0, 1)).toEqual(pose);
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
