// `npm start` and `npm run cli` build only when the sources changed since the last successful build,
// so a warm start costs no compile. `--stamp` (run by `npm run build`) records a successful build.
// Inside the production image there are no sources and no build tools: nothing to do there.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const stamp = join(root, 'dist', '.build-stamp');

if (process.argv.includes('--stamp')) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.exit(0);
}
if (!existsSync(join(root, 'src'))) process.exit(0);

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let n = s.mtimeMs;
  for (const e of readdirSync(path)) {
    if (path === join(root, 'src') && e === 'generated') continue;
    n = Math.max(n, newest(join(path, e)));
  }
  return n;
}

const inputs = ['src', 'prisma/schema.prisma', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json'];
const built = existsSync(stamp) && existsSync(join(root, 'dist', 'main.js')) ? statSync(stamp).mtimeMs : 0;
const changed = Math.max(...inputs.map((p) => newest(join(root, p))));
if (built && built >= changed) process.exit(0);
console.log(built ? 'sources changed since the last build: building' : 'no build yet: building');
execSync('npm run build --silent', { stdio: 'inherit' });
