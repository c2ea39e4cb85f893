import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve(import.meta.dirname, '../../screenshots');

/** Why browser tests cannot run here, or null when they can. Never downloads a browser. */
export function browserUnavailableReason(): string | null {
  if (!existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (install Debian's chromium with apt-get, or set CHROMIUM_PATH); browser tests skipped`;
  return null;
}

/** Prints the skip reason once, so a skipped browser test is never silent. */
export function reportBrowserSkip(suite: string): boolean {
  const reason = browserUnavailableReason();
  if (reason) process.stdout.write(`[browser] ${suite}: SKIPPED: ${reason}\n`);
  return reason !== null;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Numbered full-page screenshots under screenshots/<suite>/ (git-ignored) for a person to look at. */
export function screenshotter(suite: string) {
  const dir = join(SCREENSHOTS, suite);
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const taken: string[] = [];
  return {
    dir,
    taken,
    async shot(page: Page, name: string): Promise<string> {
      const file = join(dir, `${String(++n).padStart(2, '0')}-${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
      await page.screenshot({ path: file, fullPage: true });
      taken.push(file);
      return file;
    },
  };
}

/** Collects console errors and CSP violations a page reports: a clean page has none. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    // A page answered with a 4xx on purpose (a refusal the test provokes) logs "Failed to load resource";
    // CSP violations, script errors and failed sub-resources are what count.
    const documentRefused = /Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text()) && msg.location().url === page.url();
    if ((msg.type() === 'error' && !documentRefused) || /Refused to/.test(msg.text())) {
      problems.push(`console error on ${page.url()}: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  return problems;
}
