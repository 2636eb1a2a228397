/**
 * The built-in architectures. Both end in Dense(softmax), as deployed classifiers usually
 * do; the engine's adapter reads the logits underneath.
 */
import * as tf from '@tensorflow/tfjs';

export type Architecture = 'cnn' | 'mlp' | 'tiny-cnn';

/**
 * cnn: conv 5×5×16 stride 2 → ReLU → conv 5×5×32 stride 2 → ReLU → dense 128 → ReLU → dense K.
 *   Strided convolutions instead of max-pooling keep every op on wasm's fast paths (and the
 *   input gradient of max-pool is piecewise constant, which PGD dislikes). ~1.8 MFLOP/sample.
 * mlp: 784 → 256 → ReLU → 128 → ReLU → K. ~0.47 MFLOP/sample.
 * tiny-cnn: conv 3×3×4 stride 2 → ReLU → dense K, for tests of the training code path.
 */
export function buildArchitecture(arch: Architecture, inputShape: number[], numClasses: number, seed: number): tf.LayersModel {
  let s = 0;
  const init = () => tf.initializers.heNormal({ seed: seed * 1000 + ++s });
  const out = () => tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 1000 + ++s }), name: 'logits_softmax' });
  switch (arch) {
    case 'cnn':
      return tf.sequential({
        name: 'cnn',
        layers: [
          tf.layers.conv2d({ inputShape, filters: 16, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }),
          tf.layers.conv2d({ filters: 32, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init() }),
          out(),
        ],
      });
    case 'mlp':
      return tf.sequential({
        name: 'mlp',
        layers: [
          tf.layers.flatten({ inputShape }),
          tf.layers.dense({ units: 256, activation: 'relu', kernelInitializer: init() }),
          tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init() }),
          out(),
        ],
      });
    case 'tiny-cnn':
      return tf.sequential({
        name: 'tiny_cnn',
        layers: [
          tf.layers.conv2d({ inputShape, filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }),
          tf.layers.flatten(),
          out(),
        ],
      });
  }
}

/** Trainable parameter count. */
export function countParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}
