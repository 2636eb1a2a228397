import { describe, expect, it } from 'vitest';
import { MAX_WEIGHT_BYTES, parseModelFiles, serializeModel } from './modelFiles';

const topology = { class_name: 'Sequential', config: { name: 's', layers: [] } };
const spec = [
  { name: 'dense/kernel', shape: [3, 2], dtype: 'float32' as const },
  { name: 'dense/bias', shape: [2], dtype: 'float32' as const },
];
const modelJson = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: spec }], ...extra });
const shard = new Uint8Array(8 * 4);

describe('model.json + shards', () => {
  it('parses a valid layers model and concatenates its shards', () => {
    const p = parseModelFiles('model.json', modelJson(), new Map([['group1-shard1of1.bin', shard]]));
    expect(p.format).toBe('layers-model');
    expect(p.weightBytes).toBe(32);
    expect(p.artifacts.weightSpecs).toHaveLength(2);
    const again = serializeModel(p.artifacts);
    expect(parseModelFiles('model.json', again.modelJson, new Map([['group1-shard1of1.bin', again.shard]])).weightBytes).toBe(32);
  });

  it('names the problem for every kind of broken file', () => {
    const ok = new Map([['group1-shard1of1.bin', shard]]);
    const cases: [string, string, Map<string, Uint8Array>, RegExp][] = [
      ['empty', '', ok, /model\.json: it is empty\./],
      ['truncated JSON', modelJson().slice(0, 40), ok, /model\.json: it is not valid JSON/],
      ['an array', '[1, 2]', ok, /expected a JSON object describing a TF\.js model/],
      ['other JSON', '{"name": "my-package", "version": "1.0.0"}', ok, /no "modelTopology", so it is not a TF\.js model/],
      ['no manifest', JSON.stringify({ modelTopology: topology }), ok, /"weightsManifest" is missing/],
      ['missing shard', modelJson(), new Map(), /names weight file 'group1-shard1of1\.bin' that was not provided/],
      ['short shard', modelJson(), new Map([['group1-shard1of1.bin', new Uint8Array(31)]]), /'group1-shard1of1\.bin' holds 31 bytes but model\.json declares 32 for it; a shard is truncated/],
      ['string weights', modelJson({ weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [2], dtype: 'string' }] }] }), ok, /weight 'w' has dtype 'string'/],
      ['negative shape', modelJson({ weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [-2, 3], dtype: 'float32' }] }] }), ok, /weight 'w' has an invalid shape \[-2, 3\]/],
      ['absurd size', modelJson({ weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [MAX_WEIGHT_BYTES, 2], dtype: 'float32' }] }] }), ok, /weights add up to more than 512 MiB/],
    ];
    for (const [what, text, shards, message] of cases) {
      expect(() => parseModelFiles('model.json', text, shards), what).toThrow(message);
    }
  });
});
