import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

/** Imports the engine must never make: it runs unchanged in Node, a worker and the page. */
const ENGINE_FORBIDDEN_IMPORTS = [
  { name: 'react', message: 'src/engine is pure TypeScript + tfjs: no React.' },
  { name: 'react-dom', message: 'src/engine is pure TypeScript + tfjs: no React.' },
  { name: 'three', message: 'src/engine is pure TypeScript + tfjs: no three.' },
  { name: 'zustand', message: 'src/engine holds no UI state.' },
];

export default tseslint.config(
  { ignores: ['dist', 'dist-*', 'node_modules', 'test-results', 'playwright-report', 'public', '.tmp', '.cache', 'src/engine/kernels/as'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.tsx', 'src/ui/**/*.ts', 'src/render/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  {
    files: ['src/engine/**/*.ts'],
    ignores: ['src/engine/**/*.test.ts'],
    languageOptions: { globals: { ...globals.es2022 } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ENGINE_FORBIDDEN_IMPORTS,
          patterns: [
            { group: ['@react-three/*'], message: 'src/engine is pure TypeScript + tfjs: no three.' },
            { group: ['**/ui/*', '**/render/*', '**/state/*'], message: 'the engine never reaches into the UI.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'HTMLElement', 'HTMLCanvasElement', 'localStorage', 'location'].map(
          (name) => ({ name, message: `src/engine runs in Node and workers: no DOM global ${name}.` }),
        ),
      ],
    },
  },
);
