// Screenshot a generated report (the README's picture): node scripts/screenshot-report.mjs runs/demo docs/report.png
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [dir = 'runs/demo', out = 'docs/report.png'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
const page = await browser.newPage({ viewport: { width: 1360, height: 1700 } });
await page.goto(pathToFileURL(resolve(dir, 'report.html')).href);
await page.screenshot({ path: out, fullPage: false });
await browser.close();
console.log(out);
