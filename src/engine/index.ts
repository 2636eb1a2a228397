/** Ravine's engine: pure TypeScript + tfjs. Runs in Node, a Web Worker and the page. */
export * from './attacks';
export * from './backend';
export * from './classifier';
export * from './directions';
export * from './errors';
export * from './metric';
export * from './ops';
export * from './pgd';
export * from './rng';
export * from './schedule';
export * from './stats';
export * from './surface';
