// The house's lint: neostandard (standard's style: no semicolons, a space before a function's
// parentheses) for TypeScript, plus typescript-eslint's type-aware rules for what a reader cannot
// see: promises left floating or misused, and switches over unions that miss a case.
import globals from 'globals'
import neostandard from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  ...neostandard({ ts: true, ignores: ['node_modules/**', 'bench/results/**', '.data/**'] }),
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      // `void promise` is how a promise is marked as deliberately not awaited (no-floating-promises).
      'no-void': ['error', { allowAsStatement: true }],
      // `for await (const value of subscription) { … return }` takes the first value of a stream.
      'no-unreachable-loop': ['error', { ignore: ['ForOfStatement'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }]
    }
  },
  {
    // The dashboard's script runs in the browser, as it is (no build step).
    files: ['src/api/dashboard/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } }
  },
  {
    // Small, single-purpose files and functions (docs/architecture.md): a longer one says why in a comment.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }]
    }
  }
]
