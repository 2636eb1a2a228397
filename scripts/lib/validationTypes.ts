/**
 * What the evidence study (scripts/validate.ts) measures, as plain data: the orchestration
 * fills these, scripts/lib/validationReport.ts turns them into docs/validation.md, the SVG
 * figures and the headline JSON. Accuracies are fractions in [0, 1]; ε in input units on [0, 1].
 */
import type { Crossing, RelativeSpread } from './validationStats';

/** How large the study is; FULL_STUDY and QUICK_STUDY in scripts/validate.ts. */
export interface StudyConfig {
  /** Model ids to study (subset of public/models/index.json), or every model in it. */
  models: 'all' | string[];
  /** Test images for clean accuracy (0 = the whole test split). */
  cleanSamples: number;
  /** Test images attacked with FGSM and PGD-20 per ε of the grid. */
  attackSamples: number;
  /** Test images for R in the ranking; the cost section's sample counts are prefixes of these. */
  metricSamples: number;
  /** Test images for the rescaled-logit runs. */
  invarianceSamples: number;
  /** Factors the last layer is multiplied by (1 is always measured as the reference). */
  invarianceScales: number[];
  stability: {
    samples: number;
    /** Step counts tried at step-size factor 1 and 1 restart. */
    steps: number[];
    /** Step-size multipliers of α = 2.5 ε / steps tried at 20 steps and 1 restart. */
    stepFactors: number[];
    /** Restart counts tried at 20 steps and factor 1. */
    restarts: number[];
    /** Also measure at the smallest ε of the dataset's grid (where natural models are not yet at 0 %). */
    smallestEps: boolean;
  };
  cost: {
    /** Sample counts for the CI half-width curve (prefixes of the ranking's R samples). */
    counts: number[];
    /** "Stable": 95 % CI half-width at most this fraction of R. */
    stableRelHalfWidth: number;
  };
  surfaces: {
    /** First test images of each dataset used for every model of a pair. */
    samples: number;
    /** Grid side (odd, so a = 0 and b = 0 are grid points). */
    grid: number;
    /** Half-width of the grid as a multiple of the dataset's ε. */
    rangeFactor: number;
  };
}

export interface ModelInfo {
  id: string;
  title: string;
  dataset: string;
  arch: string;
  method: string;
  /** ε the model was trained at (0 for natural training). */
  trainEps: number;
  pair: string;
  robust: boolean;
}

export interface DatasetInfo {
  id: string;
  name: string;
  defaultEps: number;
  epsGrid: number[];
  /** Images in the shipped test split. */
  testCount: number;
}

/** Section 1: one model's accuracies and R. */
export interface RankingRow {
  model: ModelInfo;
  clean: number;
  cleanSamples: number;
  eps: number[];
  fgsm: number[];
  pgd: number[];
  attackSamples: number;
  /** Wall seconds of the PGD-20 run over the whole ε grid on attackSamples images. */
  pgdSeconds: number;
  R: number;
  std: number;
  halfWidth: number;
  metricSamples: number;
  /** Wall seconds of the R run on metricSamples images. */
  metricSeconds: number;
  /** psi per sample, in test-split order. */
  psi: number[];
}

export interface RankCorrelation {
  dataset: string;
  models: number;
  /** ρ(R, PGD-20 accuracy) at each ε of the grid. */
  rhoPgd: number[];
  /** ρ(R, FGSM accuracy) at the dataset's default ε. */
  rhoFgsm: number;
  /** Index of the default ε in the grid. */
  defaultIndex: number;
  /** Model pairs that R and PGD accuracy at the default ε order differently (ties in either count as not discordant). */
  discordant: [string, string][];
}

/** Section 2: one model with its last layer multiplied by k. */
export interface InvarianceRow {
  model: string;
  k: number;
  /** max |z_k − k·z_1| / max |k·z_1| over a few images: checks the rescaling is a pure logit scale. */
  logitRelError: number;
  clean: number;
  cleanSamples: number;
  meanCE: number;
  /** R with the normaliser s = std(z) on. */
  rNorm: number;
  /** R with s = 1. */
  rRaw: number;
}

export interface AttackSetting {
  label: string;
  steps: number;
  /** Multiplier of the default step size 2.5 ε / steps. */
  factor: number;
  restarts: number;
}

/** Section 3: one model at one ε across the attack settings. */
export interface StabilityRow {
  model: string;
  eps: number;
  /** R per setting (same order as the settings list). */
  R: number[];
  /** PGD accuracy per setting. */
  acc: number[];
  spreadR: RelativeSpread;
  spreadAcc: RelativeSpread;
}

/** Section 4: one model's CI half-width against sample count, and the time to a stable R. */
export interface CostRow {
  model: string;
  counts: number[];
  R: number[];
  halfWidth: number[];
  /** Smallest count from which on every listed count meets the threshold; null if none does. */
  stableN: number | null;
  /** n ≈ (t · sd / (threshold · R))² from the largest count's sd and R. */
  projectedN: number;
  /** Seconds to compute R on stableN (else projectedN) images. */
  stableSeconds: number;
  /** Whether stableSeconds was timed (true) or extrapolated linearly from the ranking's R run (false). */
  stableTimed: boolean;
  /** PGD-20 over the whole ε grid on the whole test split, extrapolated linearly from the ranking's timed run. */
  pgdFullSeconds: number;
}

export interface SurfaceSample {
  index: number;
  label: number;
  crossing: Crossing;
  /** Largest cross-entropy on the grid points inside the ε-box. */
  maxLoss: number;
}

export interface SurfaceModel {
  model: string;
  dataset: string;
  range: number;
  eps: number;
  samples: SurfaceSample[];
}

export interface SurfacePair {
  dataset: string;
  natural: string;
  adversarial: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  tfjs: string;
  backend: string;
}

export interface StudyResults {
  config: StudyConfig;
  quick: boolean;
  command: string;
  date: string;
  machine: MachineInfo;
  /** Wall seconds of the whole run and of each section. */
  seconds: { total: number; ranking: number; invariance: number; stability: number; cost: number; surfaces: number };
  datasets: DatasetInfo[];
  models: ModelInfo[];
  ranking: RankingRow[];
  correlations: RankCorrelation[];
  invariance: InvarianceRow[];
  settings: AttackSetting[];
  stability: StabilityRow[];
  cost: CostRow[];
  surfaces: SurfaceModel[];
  pairs: SurfacePair[];
  /** The example pair's CSV files, relative to the output folder. */
  exampleCsv: { model: string; file: string; sample: number }[];
  /** Surface figures of the example pair, relative to the output folder (empty until the figure export exists). */
  exampleFigures: string[];
}
