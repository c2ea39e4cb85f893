// Type-aware lint rules for the whole tree (src, test, bench, scripts). `npm run lint` runs this, `prettier --check`
// and dependency-cruiser; CI runs it before the tests.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'src/generated/**', 'node_modules/**', 'test-results/**', 'coverage/**', 'screenshots/**', '.embedded-postgres/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // A leading underscore marks a binding kept on purpose (a destructured field dropped from a spread, say).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Input hardening matches control characters (NUL, C0, DEL) on purpose: refusing them is the point.
      'no-control-regex': 'off',
      // Methods that fulfil an async contract (a sender, a CLI command, a loader handed to an async slot) may have
      // nothing to await; keeping them async turns a throw into a rejection, which is what their callers handle.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read HTTP bodies as `any` (`res.json()`) and assert on their fields; typing every response would bury
    // the assertions. Wrong shapes still fail the assertion itself.
    files: ['test/**/*.ts', 'src/**/*.spec.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // `res.json() as { ... }` spells out the body a test expects; moving it into a type argument adds no safety.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // House rule: one concern per file, at most 350 lines. Lines of code stay within 160 characters; long strings,
    // template literals (SQL), comments and URLs may run over (prettier keeps them whole).
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'max-lines': ['error', { max: 350, skipBlankLines: false, skipComments: false }],
      'max-len': [
        'error',
        { code: 160, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  {
    // Specs and benches tell one story per file and many run past 350 lines; they get a ceiling, not the house limit.
    files: ['test/**/*.ts', 'src/**/*.spec.ts', 'bench/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 800, skipBlankLines: false, skipComments: false }] },
  },
  {
    // Plain JavaScript (Node scripts, the one browser script, this file): no type information to lint against.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  {
    files: ['src/web/public/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
