/**
 * Import rules for src/, checked by test/dependencies.spec.ts (part of `npm test`).
 * The production image installs with `npm ci --omit=dev`: anything src/ imports must be a runtime dependency.
 */
module.exports = {
  forbidden: [
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'src/ must not import a devDependency: the production install (npm ci --omit=dev) does not have it.',
      from: { path: '^src/', pathNot: ['\\.spec\\.ts$', '^src/database/embedded-postgres\\.ts$'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'embedded-postgres-only-lazily',
      severity: 'error',
      comment: 'The embedded database is a devDependency: load it with import() only when the embedded default is used.',
      from: { path: '^src/database/embedded-postgres\\.ts$' },
      to: { dependencyTypes: ['npm-dev'], dynamic: false },
    },
    {
      name: 'no-undeclared-packages',
      severity: 'error',
      comment: 'A package src/ imports at run time must be named in package.json "dependencies", not only reached through another package.',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      comment: 'Production code never imports test support.',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'] },
  },
};
