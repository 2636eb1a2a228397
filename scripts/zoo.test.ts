/**
 * The shipped model zoo as the manifest describes it: every model of scripts/zoo.ts is there,
 * its files match the recorded hash and size, each adversarially trained model has a lower R
 * than its natural twin, and models plus data stay within the 25 MB budget.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/io/datasetNode';
import { validateZooManifest } from '../src/io/zoo';
import { ZOO } from './zoo';

const MODELS = join(REPO_ROOT, 'public', 'models');
const manifest = validateZooManifest(JSON.parse(readFileSync(join(MODELS, 'index.json'), 'utf8')));

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, name) => {
    const p = join(dir, name);
    const st = statSync(p);
    return n + (st.isDirectory() ? dirBytes(p) : st.size);
  }, 0);
}

describe('the built-in model zoo', () => {
  it('lists every model of scripts/zoo.ts, with files matching the recorded sha256 and size', () => {
    expect(manifest.models.map((m) => m.id).sort()).toEqual(ZOO.map((z) => z.id).sort());
    for (const m of manifest.models) {
      const dir = join(MODELS, m.id);
      const names = readdirSync(dir).filter((n) => n === 'model.json' || n.endsWith('.bin')).sort();
      const hash = createHash('sha256');
      let bytes = 0;
      for (const n of names) {
        const b = readFileSync(join(dir, n));
        hash.update(b);
        bytes += b.byteLength;
      }
      expect(hash.digest('hex'), m.id).toBe(m.sha256);
      expect(bytes, m.id).toBe(m.bytes);
    }
  });

  it('gives every adversarially trained model a lower R than its natural twin', () => {
    const robust = manifest.models.filter((m) => m.robust);
    expect(robust.length).toBeGreaterThanOrEqual(5);
    for (const m of robust) {
      const twin = manifest.models.find((t) => t.id === m.pair);
      expect(twin, `${m.id}'s pair`).toBeDefined();
      expect(twin?.robust).toBe(false);
      expect(m.metric.R, `${m.id} vs ${twin?.id}`).toBeLessThan(twin?.metric.R ?? 0);
    }
  });

  it('keeps built-in models and data under 25 MB together', () => {
    const total = dirBytes(MODELS) + dirBytes(join(REPO_ROOT, 'public', 'data'));
    console.log(`public/models + public/data: ${(total / 1e6).toFixed(1)} MB`);
    expect(total).toBeLessThan(25e6);
  });
});
