import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { startTestApp, type TestApp, type TestAppOptions } from './app.js';
import { launchBrowser } from './browser.js';
import { sparePort } from './net.js';

/** The real application listening on 127.0.0.1 with a Chromium to drive it; one per browser spec file. */
export interface BrowserApp {
  t: TestApp;
  browser: Browser;
  /** `http://127.0.0.1:<port>`, also the app's PUBLIC_BASE_URL, so links in mail and pages point at it. */
  base: string;
  /**
   * A fresh context (cookies of its own) with `base` as its baseURL; `bypassCSP` by default, since `checkPage`
   * injects axe-core as a script, which the site's CSP rightly refuses. Pass `bypassCSP: false` to run under the CSP.
   */
  context(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** Signs a context in as a staff member: their session cookie, set for `base`. */
  signIn(context: BrowserContext, staff: { headers: { cookie: string } }): Promise<void>;
  /** A fresh context signed in as a staff member. */
  staffContext(staff: { headers: { cookie: string } }, options?: BrowserContextOptions): Promise<BrowserContext>;
  /** A page in a fresh staff context. */
  staffPage(staff: { headers: { cookie: string } }, options?: BrowserContextOptions): Promise<Page>;
  close(): Promise<void>;
}

export interface BrowserAppOptions extends TestAppOptions {
  /** Runs after the app is built and before it listens (e.g. registering test handlers on its services). */
  beforeListen?: (t: TestApp) => void | Promise<void>;
}

/** Starts the app on a spare port (its PUBLIC_BASE_URL set to that address unless given) and launches Chromium. */
export async function startBrowserApp(opts: BrowserAppOptions = {}): Promise<BrowserApp> {
  const port = await sparePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await startTestApp({ ...opts, env: { PUBLIC_BASE_URL: base, ...opts.env } });
  let browser: Browser | undefined;
  try {
    await opts.beforeListen?.(t);
    await t.app.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
  } catch (err) {
    await t.close();
    throw err;
  }
  const b = browser;
  const context = (options: BrowserContextOptions = {}) => b.newContext({ bypassCSP: true, baseURL: base, ...options });
  const signIn = async (ctx: BrowserContext, staff: { headers: { cookie: string } }) => {
    const [name, value] = staff.headers.cookie.split('=');
    await ctx.addCookies([{ name, value, url: base }]);
  };
  const staffContext = async (staff: { headers: { cookie: string } }, options: BrowserContextOptions = {}) => {
    const ctx = await context(options);
    await signIn(ctx, staff);
    return ctx;
  };
  return {
    t,
    browser: b,
    base,
    context,
    signIn,
    staffContext,
    staffPage: async (staff, options) => (await staffContext(staff, options)).newPage(),
    async close() {
      await b.close();
      await t.close();
    },
  };
}
