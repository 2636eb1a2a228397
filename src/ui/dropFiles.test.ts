import { describe, expect, it } from 'vitest';
import { checkDropSizes, MAX_DROP_BYTES, MAX_DROPPED_FILE_BYTES } from './dropFiles';

describe('dropped files are refused from their size, before they are read', () => {
  it('one file over 1 GiB, or a drop over 2 GiB in total; the model-sized drop passes', () => {
    expect(() => checkDropSizes([{ name: 'disk.img', size: 3 * 2 ** 30 }])).toThrow(/^disk\.img is 3\.0 GiB; Ravine reads files up to 1\.0 GiB, and nothing it loads is larger\.$/);
    const three = [0, 1, 2].map((i) => ({ name: `part${i}.bin`, size: 0.9 * 2 ** 30 }));
    expect(() => checkDropSizes(three)).toThrow(/^the 3 files add up to 2\.7 GiB; Ravine reads up to 2\.0 GiB at once\.$/);
    expect(() => checkDropSizes([{ name: 'model.json', size: 2_112 }, { name: 'group1-shard1of1.bin', size: 512 * 2 ** 20 }])).not.toThrow();
    expect(MAX_DROPPED_FILE_BYTES).toBe(2 ** 30);
    expect(MAX_DROP_BYTES).toBe(2 ** 31);
  });
});
