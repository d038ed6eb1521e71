// shot.js URL FILE.png - the web view's picture in headless Chromium
// (docs/web.png is made by `HOTSWAP_DEMO_SCREENSHOT=docs/web.png make
// demo`).  SPDX-License-Identifier: BSD-2-Clause
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "hotswap-chromium."));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync"],
    viewport: { width: 1500, height: 1000 },
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(process.argv[2]);
    await page.waitForSelector("body[data-ready='1']", { timeout: 15000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: process.argv[3], fullPage: true });
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})().catch((e) => { console.error(String(e)); process.exit(1); });
