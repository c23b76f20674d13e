import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      '.gpu/',
      'dev-dist/',
      'node_modules/',
      'models/.artifacts/',
      'public/models/',
      'test-results/',
      'playwright-report/',
      'coverage/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
  },
  {
    files: [
      '*.{js,ts,mjs}',
      'scripts/**/*.{js,ts,mjs}',
      'e2e/**/*.ts',
      'e2e-engines/**/*.ts',
      'models/**/*.mjs',
    ],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Node with Dawn's WebGPU globals (GPUQueue…) installed at run time.
    files: ['bench/gpu/**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // The architecture's nevers (docs/ARCHITECTURE.md), enforced: a forbidden import fails `npm test`.
  ...layerRules(),
);

/**
 * One no-restricted-imports rule per layer. core/ imports nothing of ours (and no package); engine/ never reaches
 * the worker, state or UI; state/ never reaches the UI or the engine (it talks to the worker through one client,
 * state/workerClient.ts); worker/ never reaches state or UI; ui/ never reaches the engine or the worker (it goes through state actions). Tests may
 * wire layers together (a fake worker client, a manifest validated by the engine), so they are exempt.
 */
function layerRules() {
  const tests = ['src/**/*.test.{ts,tsx}', 'src/**/*.testing.ts', 'src/test/**'];
  const forbid = (files, layers, why, extra = []) => ({
    files,
    ignores: tests,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...layers.map((layer) => ({ regex: `(^|/)${layer}(/|$)`, message: why })), ...extra],
        },
      ],
    },
  });
  return [
    forbid(['src/core/**'], ['engine', 'worker', 'state', 'ui'], 'core/ imports nothing of ours but core.', [
      { regex: '^[^.]', message: 'core/ is dependency-free: no packages.' },
    ]),
    forbid(['src/engine/**'], ['worker', 'state', 'ui'], 'The engine never imports the worker, state or UI.'),
    {
      ...forbid(
        ['src/state/**'],
        ['ui', 'engine', 'worker'],
        'state/ never imports the UI or the engine, and reaches the worker only through state/workerClient.ts.',
      ),
      ignores: [...tests, 'src/state/workerClient.ts'],
    },
    forbid(
      ['src/state/workerClient.ts'],
      ['ui', 'engine'],
      'The worker client never imports the UI or the engine.',
    ),
    forbid(['src/worker/**'], ['state', 'ui'], 'The worker runs the engine; it never imports state or UI.'),
    forbid(['src/ui/**'], ['engine', 'worker'], 'The UI reaches the engine only through state actions.'),
  ];
}
