import { describe, expect, it } from 'vitest';
import { metricProfileLines, type MetricProfile } from './metricProfile';

const kernels = (entries: [string, number][]) => entries.map(([name, ms]) => ({ name, shapes: '', ms, calls: 1 }));

describe('the WebGL metric profile in the report', () => {
  // 100 batched samples: convolutions 10 ms a sample, the rest 1; 10 naive samples: 15 and 8.
  const profile: MetricProfile = {
    model: 'mnist-cnn-natural',
    batched: { samples: 100, wallMs: 1200, kernels: kernels([['Conv2DBackpropInput', 600], ['FusedConv2D', 400], ['_FusedMatMul', 60], ['Step', 40]]) },
    naive: { samples: 10, wallMs: 250, kernels: kernels([['Conv2DBackpropInput', 90], ['FusedConv2D', 60], ['_FusedMatMul', 50], ['Step', 30]]) },
  };
  const text = metricProfileLines(profile).join('\n');

  it('lists each kernel per sample, batched against naive, with its gain', () => {
    expect(text).toContain('| Conv2DBackpropInput | 6.00 | 9.00 | ×1.5 |');
    expect(text).toContain('| _FusedMatMul | 0.60 | 5.00 | ×8.3 |');
    expect(text).toContain('| all kernels | 11.00 | 23.00 | ×2.1 |');
  });

  it('gives the convolutions\' share and gain, and how much faster they would have to be for ×4', () => {
    expect(text).toContain('are 91 % of the batched run');
    expect(text).toContain('gain ×1.5 from batching; every other kernel together gains ×8.0');
    // (15 / f + 8) / (10 / f + 1) = 4 at f = 6.25: the convolutions 6.25× as fast in both runs.
    expect(text).toContain('convolution shaders ×6.3 as fast');
  });

  it('says when no convolution speed-up could reach ×4', () => {
    const slow: MetricProfile = { ...profile, naive: { ...profile.naive, kernels: kernels([['Conv2DBackpropInput', 90], ['FusedConv2D', 60], ['_FusedMatMul', 20], ['Step', 10]]) } };
    expect(metricProfileLines(slow).join('\n')).toContain('no speed-up of the convolution shaders alone would reach ×4 by this profile (with them free the gain would be ×3.0)');
  });
});
