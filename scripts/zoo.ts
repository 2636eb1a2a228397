/**
 * The built-in model zoo: what scripts/train.ts trains and scripts/evaluate.ts measures.
 * Every number here is a training setting; every accuracy in public/models/index.json is
 * measured by the evaluation script, never typed in.
 */
import type { TrainSpec } from './lib/trainer';

export interface ZooEntry {
  id: string;
  dataset: 'mnist' | 'fashion-mnist';
  /** The natural twin of an adversarially trained model (and vice versa), for one-click pairs. */
  pair: string;
  title: string;
  spec: TrainSpec;
}

const base = { stepFactor: 2.5, batchSize: 64, learningRate: 1e-3, seed: 1, maxSamples: 0, steps: 0, eps: 0, rampEpochs: 0, decayEpochs: 2 };

export const ZOO: ZooEntry[] = [
  {
    id: 'mnist-cnn-natural',
    dataset: 'mnist',
    pair: 'mnist-cnn-pgd',
    title: 'MNIST CNN, natural training',
    spec: { ...base, arch: 'cnn', method: 'natural', epochs: 12 },
  },
  {
    id: 'mnist-cnn-pgd',
    dataset: 'mnist',
    pair: 'mnist-cnn-natural',
    title: 'MNIST CNN, PGD training (L∞, ε = 0.3)',
    spec: { ...base, arch: 'cnn', method: 'pgd', eps: 0.3, steps: 7, epochs: 20, rampEpochs: 5, decayEpochs: 3 },
  },
  {
    id: 'mnist-cnn-fgsm',
    dataset: 'mnist',
    pair: 'mnist-cnn-natural',
    title: 'MNIST CNN, FGSM training with random start (ε = 0.1)',
    spec: { ...base, arch: 'cnn', method: 'fgsm-rs', eps: 0.1, epochs: 12, rampEpochs: 2 },
  },
  {
    id: 'mnist-mlp-natural',
    dataset: 'mnist',
    pair: 'mnist-mlp-pgd',
    title: 'MNIST MLP, natural training',
    spec: { ...base, arch: 'mlp', method: 'natural', epochs: 15 },
  },
  {
    id: 'mnist-mlp-pgd',
    dataset: 'mnist',
    pair: 'mnist-mlp-natural',
    title: 'MNIST MLP, PGD training (L∞, ε = 0.2)',
    spec: { ...base, arch: 'mlp', method: 'pgd', eps: 0.2, steps: 8, epochs: 30, rampEpochs: 8, decayEpochs: 4 },
  },
  {
    id: 'fashion-cnn-natural',
    dataset: 'fashion-mnist',
    pair: 'fashion-cnn-pgd',
    title: 'Fashion-MNIST CNN, natural training',
    spec: { ...base, arch: 'cnn', method: 'natural', epochs: 6, batchSize: 128, decayEpochs: 1 },
  },
  {
    id: 'fashion-cnn-pgd',
    dataset: 'fashion-mnist',
    pair: 'fashion-cnn-natural',
    title: 'Fashion-MNIST CNN, PGD training (L∞, ε = 0.1)',
    spec: { ...base, arch: 'cnn', method: 'pgd', eps: 0.1, steps: 5, epochs: 8, rampEpochs: 2, decayEpochs: 2, batchSize: 128, maxSamples: 30000 },
  },
  {
    id: 'fashion-mlp-natural',
    dataset: 'fashion-mnist',
    pair: 'fashion-mlp-pgd',
    title: 'Fashion-MNIST MLP, natural training',
    spec: { ...base, arch: 'mlp', method: 'natural', epochs: 10, batchSize: 128 },
  },
  {
    id: 'fashion-mlp-pgd',
    dataset: 'fashion-mnist',
    pair: 'fashion-mlp-natural',
    title: 'Fashion-MNIST MLP, PGD training (L∞, ε = 0.1)',
    spec: { ...base, arch: 'mlp', method: 'pgd', eps: 0.1, steps: 5, epochs: 8, rampEpochs: 1, decayEpochs: 2, batchSize: 128, maxSamples: 30000 },
  },
];

export function zooEntry(id: string): ZooEntry {
  const e = ZOO.find((z) => z.id === id);
  if (!e) throw new Error(`unknown zoo model '${id}'; known: ${ZOO.map((z) => z.id).join(', ')}`);
  return e;
}
