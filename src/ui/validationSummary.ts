/**
 * The validation study's headline numbers, as scripts/validate.ts writes them to
 * src/ui/validationSummary.json and the About overlay shows them. One type for both sides.
 */
export interface ValidationSummary {
  generatedAt: string;
  command: string;
  quick: boolean;
  doc: string;
  spearman: { dataset: string; name: string; eps: number; models: number; rho: number | null }[];
  invariance: { scales: number[]; maxRelChangeNormalized: number | null; minRelChangeRaw: number | null; maxRelChangeRaw: number | null };
  stability: {
    settings: number;
    medianRelRangeR: number | null;
    medianRelRangePgdAccuracy: number | null;
    medianRelRangePgdError: number | null;
    rMovedLess: number;
    comparisons: number;
    /** (dataset, ε, non-default setting) cases, and in how many the models' order by R / by accuracy stayed as under the default setting. */
    orderCases: number;
    orderKeptR: number;
    orderKeptAccuracy: number;
  };
  stableR: { relHalfWidth: number; maxSamples: number | null; maxSamplesModel: string; reachedWithin: number; models: number; medianSecondsStableR: number | null; medianSecondsPgdFullSplit: number | null };
}
