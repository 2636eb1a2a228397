import { describe, expect, it } from 'vitest';
import { float32ToBase64 } from './base64';
import { looksLikeRecipe, parseRecipe, recipeToJson, RecipeError, type Recipe } from './recipe';

const sha = (c: string) => c.repeat(64);
const d1 = Float32Array.from({ length: 784 }, (_, i) => (i % 3 === 0 ? 1 : -1));
const d2 = Float32Array.from({ length: 784 }, (_, i) => Math.sin(i) * 1e-7 + (i % 2 ? 0.5 : -0.25));
const x = Float32Array.from({ length: 784 }, (_, i) => (i % 7) / 6);

const recipe: Recipe = {
  created: '2026-11-25T00:00:00Z',
  ravineVersion: '0.1.0',
  tfjsVersion: '4.22.0',
  backend: 'wasm',
  config: { slotA: 'mnist-cnn-natural', resolution: 31, camera: { position: [1, 2, 3], target: [0, 0, 0], zoom: 1 } },
  models: { A: { id: 'mnist-cnn-natural', sha256: sha('a'), name: 'MNIST CNN' }, B: { sha256: sha('b'), name: 'my model' } },
  sample: { dataset: 'mnist', index: 0, id: 'custom:seven.png', label: 7, custom: { name: 'seven.png', x } },
  directions: { A: { d1, d2, d1Source: 'cross-entropy', modelSha256: sha('a'), sampleId: 'custom:seven.png' } },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into the JSON to break it
function edit(mutate: (o: any) => void): string {
  const o = JSON.parse(recipeToJson(recipe));
  mutate(o);
  return JSON.stringify(o);
}

describe('recipes', () => {
  it('round-trips every number exactly (directions and custom pixels are float32 bit for bit)', () => {
    const text = recipeToJson(recipe);
    expect(looksLikeRecipe(text)).toBe(true);
    const back = parseRecipe(text);
    expect(back.config).toEqual(recipe.config);
    expect(back.models).toEqual(recipe.models);
    expect(back.sample.custom!.x).toEqual(x);
    expect(back.directions.A!.d1).toEqual(d1);
    expect(Array.from(back.directions.A!.d2)).toEqual(Array.from(d2));
    expect(back.directions.B).toBeUndefined();
  });

  it('refuses what is not a recipe, naming the problem', () => {
    expect(() => parseRecipe('{"format": "ravine-recipe",', 'r.json')).toThrow(/r\.json is not valid JSON/);
    expect(() => parseRecipe('{"modelTopology": {}}', 'model.json')).toThrow(/model\.json is not a Ravine recipe/);
    expect(looksLikeRecipe('{"modelTopology": {}}')).toBe(false);
    expect(() => parseRecipe(edit((o) => (o.version = 7)))).toThrow(/recipe version 7/);
    expect(() => parseRecipe(edit((o) => delete o.config))).toThrow(/no config/);
  });

  it('refuses bad model hashes and ids', () => {
    expect(() => parseRecipe(edit((o) => (o.models.A.sha256 = 'abc')))).toThrow(/models\.A\.sha256 must be 64 hex digits/);
    expect(() => parseRecipe(edit((o) => (o.models.B.id = '<img src=x>')))).toThrow(/models\.B\.id is not a model id/);
  });

  it('refuses directions of the wrong length, non-finite values and broken base64', () => {
    expect(() => parseRecipe(edit((o) => (o.directions.A.length = 785)))).toThrow(/d1 holds 784 values; 785 were expected/);
    const withNaN = d1.slice();
    withNaN[10] = NaN;
    expect(() => parseRecipe(edit((o) => (o.directions.A.d1 = float32ToBase64(withNaN))))).toThrow(/directions\.A\.d1 has a non-finite value at index 10/);
    expect(() => parseRecipe(edit((o) => (o.directions.A.d2 = '***')))).toThrow(/directions\.A\.d2 is not valid base64/);
  });

  it('refuses custom pixels outside [0, 1] and absurd sizes', () => {
    const bright = x.slice();
    bright[3] = 255;
    expect(() => parseRecipe(edit((o) => (o.sample.custom.x = float32ToBase64(bright))))).toThrow(/sample\.custom\.x has 255 at index 3/);
    expect(() => parseRecipe(edit((o) => (o.sample.custom.length = 1e9)))).toThrow(/sample\.custom\.length must be a whole number/);
    expect(() => parseRecipe('x'.repeat(9 * 1024 * 1024))).toThrow(RecipeError);
  });
});
