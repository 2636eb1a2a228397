import { describe, expect, it } from 'vitest';
import { configFromHash, configToHash, DEFAULT_CONFIG, roundCamera, sanitizeConfig, TITLE_MAX_LENGTH } from './config';

describe('lab config in the URL', () => {
  it('round-trips through the hash, writing only what differs from the defaults', () => {
    expect(configToHash(DEFAULT_CONFIG)).toBe('');
    const c = { ...DEFAULT_CONFIG, resolution: 101, quantity: 'margin' as const, directions: { ...DEFAULT_CONFIG.directions, seed: 7, orthogonal: true } };
    const hash = configToHash(c);
    expect(decodeURIComponent(hash)).toBe('#{"quantity":"margin","resolution":101,"directions":{"adversarial":"sign","random":"rademacher","seed":7,"orthogonal":true}}');
    const back = configFromHash(hash);
    expect(back.issues).toEqual([]);
    expect(back.config).toEqual(c);
  });

  it('clamps out-of-range numbers and refuses wrong kinds, naming each setting', () => {
    const { config, issues } = sanitizeConfig({ resolution: 5000, range: -1, quantity: 'accuracy', sample: 2.5, metric: { steps: 0, eps: 'x' }, slotA: '<script>' });
    expect(config.resolution).toBe(201);
    expect(config.range).toBe(1e-4);
    expect(config.quantity).toBe('loss');
    expect(config.sample).toBe(0);
    expect(config.metric.steps).toBe(1);
    expect(config.metric.eps).toBe(DEFAULT_CONFIG.metric.eps);
    expect(config.slotA).toBe(DEFAULT_CONFIG.slotA);
    const text = issues.map((i) => i.message).join('\n');
    expect(text).toContain('resolution must be between 11 and 201; got 5000 (clamped)');
    expect(text).toContain("quantity must be one of loss, margin; got 'accuracy'");
    expect(text).toContain("sample must be an integer; got '2.5'");
    expect(text).toContain('slotA is not a model id');
    expect(text).toContain("metric.eps must be a number; got 'x'");
  });

  it('falls back to the defaults, with a message, when the hash is not a config at all', () => {
    for (const hash of ['#%7Bnot json', '#' + encodeURIComponent('[1,2]'), '#' + encodeURIComponent('"text"')]) {
      const r = configFromHash(hash);
      expect(r.config).toEqual(DEFAULT_CONFIG);
      expect(r.issues[0].message).toMatch(/^The link's settings could not be read/);
    }
  });
});

describe('camera and title in links and recipes', () => {
  it('keeps a valid camera pose and round-trips it through the hash', () => {
    const pose = { position: [1.5, 2, -3.25] as [number, number, number], target: [0, 0.3, 0] as [number, number, number], zoom: 1 };
    const { config, issues } = sanitizeConfig({ camera: pose, title: 'Figure 2: natural vs PGD' });
    expect(issues).toEqual([]);
    expect(config.camera).toEqual(pose);
    expect(configFromHash(configToHash(config)).config.camera).toEqual(pose);
    expect(configFromHash(configToHash(config)).config.title).toBe('Figure 2: natural vs PGD');
  });

  it('refuses absurd poses with a message and keeps the default view', () => {
    for (const camera of [{ position: [1e9, 0, 0], target: [0, 0, 0] }, { position: [1, 2], target: [0, 0, 0] }, { position: [1, 1, 1], target: [1, 1, 1] }, { position: [1, 1, 1], target: [0, 0, 0], zoom: 0 }, 'iso']) {
      const { config, issues } = sanitizeConfig({ camera });
      expect(config.camera).toBeNull();
      expect(issues.map((i) => i.key)).toEqual(['camera']);
    }
  });

  it('rounds a pose to 1e-4 for links', () => {
    expect(roundCamera({ position: [1.234567, -2.000049, 3], target: [0, 0.12345, 0] })).toEqual({ position: [1.2346, -2, 3], target: [0, 0.1235, 0], zoom: 1 });
  });

  it('cuts a long title, strips control characters and refuses non-text', () => {
    const long = sanitizeConfig({ title: 'x'.repeat(500) });
    expect(long.config.title).toHaveLength(TITLE_MAX_LENGTH);
    expect(long.issues[0].message).toMatch(/longer than 120/);
    expect(sanitizeConfig({ title: 'a\nb\u0007c' }).config.title).toBe('a b c');
    expect(sanitizeConfig({ title: { html: '<b>' } }).issues[0].key).toBe('title');
  });
});
