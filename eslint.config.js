// Lint rules the code base is held to (run by `npm test`, so CI runs them too).
// Formatting is prettier's job (.prettierrc.json); these rules are about structure.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        fetch: 'readonly',
        Response: 'readonly',
        Request: 'readonly',
        Headers: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      // Messages stay on one line, so that what a user sees can be found with grep.
      'max-len': ['error', { code: 120 }],
      'no-param-reassign': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      complexity: ['error', 60],
      'max-lines-per-function': ['error', { max: 200, skipBlankLines: true, skipComments: true }],
      // Control characters are what the terminal-safety code looks for.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // The explorer's reducer is one switch over its commands and actions: each case is short,
    // the switch is long. Its cases are tested one by one (test/unit/ui-app-state.test.ts).
    files: ['src/ui/state/app.ts'],
    rules: {
      complexity: ['error', 120],
      'max-lines-per-function': ['error', { max: 260, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Tests: a describe block is one long function by design, and fakes take loose types.
    files: ['test/**/*.ts', 'test/**/*.tsx', 'bench/**/*.ts'],
    rules: { 'max-lines-per-function': 'off', complexity: 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
