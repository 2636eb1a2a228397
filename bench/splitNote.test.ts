import { describe, expect, it } from 'vitest';
import type { Row } from './common';
import { splitNote } from './splitNote';

const row = (seconds: number, splitMs?: number): Row => ({ env: 'Node wasm SIMD', model: 'mnist-cnn-natural', kind: 'metric', mode: 'batched', size: 100, times: [seconds], seconds, flops: 1, ...(splitMs === undefined ? {} : { splitMs }) });

describe('splitNote', () => {
  it('puts the time outside the split kernels beside the kernels\' gain from the second thread', () => {
    // 1 thread: 150 ms, 134 in the kernels; 2 threads: 95 ms, 78 in them.
    const text = splitNote('metric', row(0.15, 134), row(0.095, 78)) ?? '';
    expect(text).toContain('134.0 of 150.0 ms');
    expect(text).toContain('16.0 ms outside them');
    expect(text).toContain('78.0 of 95.0 ms');
    expect(text).toContain('17.0 ms outside');
    expect(text).toContain('(16.0 ms on 1 thread, 17.0 ms on 2)');
    expect(text).toContain('×1.72'); // 134 / 78
    expect(text).toContain('18 % of the 2-thread time'); // 17 / 95
  });

  it('says nothing for runs that did not record it', () => {
    expect(splitNote('metric', row(0.15), row(0.095, 78))).toBeNull();
    expect(splitNote('metric', row(0.15, 134), undefined)).toBeNull();
  });
});
