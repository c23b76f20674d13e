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
);
