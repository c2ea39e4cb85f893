import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve(import.meta.dirname, '../../screenshots');

/** Why browser tests cannot run here, or null when they can. Never downloads a browser. */
export function browserUnavailableReason(): string | null {
  if (!existsSync(CHROMIUM_PATH))
    return `no Chromium at ${CHROMIUM_PATH} (install Debian's chromium with apt-get, or set CHROMIUM_PATH); browser tests skipped`;
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

const AXE_SOURCE_PATH = resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js');

export interface PageCheck {
  /** axe-core violations of impact serious or critical, as "rule-id: help (n nodes)". */
  violations: string[];
  /** Document width in CSS pixels at a 375 px wide viewport; reflow holds when it is <= 375. */
  widthAt375: number;
}

/**
 * The accessibility bar every page state must meet: 0 serious or critical axe-core violations, and no horizontal
 * scroll at a 375 px viewport (WCAG 1.4.10 reflow). Takes a full-page screenshot of the state under
 * screenshots/pages/<name>.png (desktop) and <name>-375.png (phone) for a person to look at.
 * The page's context must be created with `bypassCSP: true`: the site's CSP blocks injected scripts, as it should.
 */
export async function checkPage(page: Page, name: string): Promise<PageCheck> {
  const dir = join(SCREENSHOTS, 'pages');
  mkdirSync(dir, { recursive: true });
  const file = name.replace(/[^a-z0-9-]+/gi, '-');
  const original = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.screenshot({ path: join(dir, `${file}.png`), fullPage: true });
  await page.addScriptTag({ path: AXE_SOURCE_PATH });
  // Evaluated as a string: the test program is compiled without the DOM library.
  const violations = (await page.evaluate(`(async () => {
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes: ' + v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(', ') + ')');
  })()`)) as string[];
  await page.setViewportSize({ width: 375, height: 740 });
  const widthAt375 = (await page.evaluate('Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)')) as number;
  await page.screenshot({ path: join(dir, `${file}-375.png`), fullPage: true });
  await page.setViewportSize(original);
  return { violations, widthAt375 };
}
