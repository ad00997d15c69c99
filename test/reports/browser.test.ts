// Opens the report from disk (file://) in Debian's Chromium through playwright-core: key elements visible,
// no console error, no network request, and a screenshot saved under a temp dir for a human to look at.

import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { type BrowserContext, chromium } from 'playwright-core';
import { writeReports } from '../../reports/index.js';
import { JOURNALS_DIR } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** MESHDRILL_KEEP_SCREENSHOTS=1 keeps each run directory (report and screenshot) to look at; else it is removed. */
const KEEP_SCREENSHOTS = process.env.MESHDRILL_KEEP_SCREENSHOTS === '1';

describe('reports/html in a real browser (Chromium, file://)', function () {
  this.timeout(60_000);

  before(function () {
    if (!existsSync(CHROMIUM)) {
      console.warn(`skipping: ${CHROMIUM} is missing — run ./scripts/setup-system.sh once to install it`);
      this.skip();
    }
  });

  for (const fixture of ['failing', 'repeat-3'] as const) {
    it(`renders the ${fixture} report with no console error and no network request`, async () => {
      const runDir = mkdtempSync(join(tmpdir(), 'meshdrill-browser-'));
      const userDataDir = mkdtempSync(join(tmpdir(), 'meshdrill-chromium-profile-'));
      copyFileSync(join(JOURNALS_DIR, `${fixture}.jsonl`), join(runDir, 'journal.jsonl'));
      await writeReports(runDir);
      let context: BrowserContext | undefined;
      try {
        // launchPersistentContext is how playwright takes a fresh --user-data-dir.
        context = await chromium.launchPersistentContext(userDataDir, {
          executablePath: CHROMIUM,
          headless: true,
          args: ARGS,
          viewport: { width: 1366, height: 900 },
          timeout: 30_000,
        });
        const network: string[] = [];
        await context.route('**/*', async (route) => {
          const url = route.request().url();
          if (url.startsWith('file://')) return route.continue();
          network.push(url);
          return route.abort();
        });
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
        });
        page.on('pageerror', (e) => errors.push(e.message));
        page.on('request', (r) => {
          if (!r.url().startsWith('file://')) network.push(r.url());
        });
        await page.goto(pathToFileURL(join(runDir, 'index.html')).href, {
          waitUntil: 'load',
          timeout: 15_000,
        });

        expect(await page.locator('#verdict').isVisible()).to.equal(true);
        expect(await page.locator('#verdict .verdict-word').textContent()).to.match(/Run failed/);
        expect(await page.locator('#coverage table.coverage').isVisible()).to.equal(true);
        expect(await page.locator('section.scenario').count()).to.be.greaterThan(1);
        expect(await page.locator('section.scenario').first().locator('.timeline svg').count()).to.equal(3);
        expect(await page.locator('section.scenario .timeline svg').first().isVisible()).to.equal(true);
        expect(await page.locator('table.detection').first().isVisible()).to.equal(true);
        expect(await page.locator('table.runbook').first().isVisible()).to.equal(true);
        expect(await page.locator('table.slo').first().isVisible()).to.equal(true);
        expect(await page.locator('#environment').isVisible()).to.equal(true);
        if (fixture === 'failing')
          expect(await page.locator('#negative-controls').isVisible()).to.equal(true);
        if (fixture === 'repeat-3')
          expect(await page.locator('#repeats tr.flaky').isVisible()).to.equal(true);
        // The SVG actually laid out: a chart wider than half the viewport.
        const box = await page.locator('section.scenario .timeline svg').first().boundingBox();
        expect(box?.width ?? 0).to.be.greaterThan(683);
        // The "what failed" link jumps to the failing scenario.
        await page.locator('#verdict ol.failures a').first().click();
        expect(new URL(page.url()).hash).to.match(/^#s-upstream-503-main-\d$/);

        const shot = join(runDir, `report-${fixture}.png`);
        await page.evaluate('window.scrollTo(0, 0)');
        await page.screenshot({ path: shot, fullPage: true });
        expect(statSync(shot).size).to.be.greaterThan(50_000);
        if (KEEP_SCREENSHOTS) console.log(`      screenshot: ${shot}`);

        // Print view: navigation hidden, runbook output unfolded by the beforeprint hook.
        await page.emulateMedia({ media: 'print' });
        expect(await page.locator('nav.toc').isVisible()).to.equal(false);

        expect(errors, 'console errors').to.deep.equal([]);
        expect(network, 'network requests').to.deep.equal([]);
      } finally {
        await context?.close();
        rmSync(userDataDir, { recursive: true, force: true });
        if (!KEEP_SCREENSHOTS) rmSync(runDir, { recursive: true, force: true });
      }
    });
  }
});
