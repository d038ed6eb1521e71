// page.js - the web view in headless Chromium (Debian's chromium driven
// by playwright-core): load, insert a card on the simulator, press its
// button through the page, see the slot blink then turn on, see the
// event, have a removal refused and the reason shown.  Screenshots go to
// $SHOTS.  Run by page.py, which starts hotswapd.
// SPDX-License-Identifier: BSD-2-Clause
"use strict";
const { chromium } = require("playwright-core");
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const os = require("os");

const { URL_, TOKEN, CTL, SOCK, SHOTS, RUN } = process.env;
let n = 0, failed = 0;
function ok(cond, what, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${what}`);
  else { failed++; console.log(`not ok ${n} - ${what} ${detail || ""}`); }
}
const ctl = (...a) => execFileSync(CTL, ["--socket", SOCK, ...a], { encoding: "utf8" });

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "hotswap-chromium."));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update",
           "--disable-sync"],
    viewport: { width: 1500, height: 1000 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(URL_)) external.push(r.url()); });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name + ".png"), fullPage: true });
  const state = (slot) => page.getAttribute(`#slot-${slot}`, "data-state");
  const waitState = (slot, st) => page.waitForSelector(`#slot-${slot}[data-state="${st}"]`, { timeout: 15000 })
    .then(() => true, () => false);
  try {
    await page.goto(`${URL_}/#token=${TOKEN}`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 15000 });
    const slots = JSON.parse(ctl("--json", "list"));
    ok(await page.locator(".slot").count() === slots.length, "one box per slot");
    ok(await page.locator(".controller").count() >= 3, "slots grouped by controller");
    ok(await page.locator(".slot .led.blue").count() ===
       slots.filter((s) => s.kind === "cpci").length, "CompactPCI slots show the blue LED");
    ok(await page.locator(".latch").count() > 0, "latches shown");
    ok((await page.textContent("#slot-3 .devices")).includes("simstor"),
       "devices listed with their drivers");
    ok(!page.url().includes("token"), "the token is taken out of the address");
    await shot("1-loaded");

    ctl("sim", "insert", "2", "nic-1port");
    ctl("sim", "advance", "1s");
    ok(await waitState(2, "off"), "the inserted card appears without reload");
    await page.click('#slot-2 button[data-action="press button"]');
    ok(await page.isVisible("#confirm"), "a confirmation is asked first");
    await page.click("#confirm-yes");
    ok(await waitState(2, "blinking-on"), "slot 2 blinks after the button");
    const anim = await page.$eval("#slot-2 .led.power", (e) => getComputedStyle(e).animationName);
    ok(anim === "blink", "the power indicator is drawn blinking", anim);
    await shot("2-blinking");
    ctl("sim", "advance", "6s");
    ok(await waitState(2, "on"), "then slot 2 turns on");
    ok(await page.$eval("#slot-2 .led.power", (e) => e.dataset.value) === "on",
       "power indicator on");
    ok(await page.waitForSelector('#events li[data-type="driver-bound"]', { timeout: 10000 })
      .then(() => true, () => false), "the driver-bound event appears in the list");
    await shot("3-on");

    // Cancel keeps everything as it was.
    await page.click('#slot-2 button[data-action="remove"]');
    await page.click("#confirm-no");
    await page.waitForTimeout(300);
    ok(await state(2) === "on", "cancelling the confirmation does nothing");

    // A removal the storage agent refuses (a mounted filesystem).
    const stor = JSON.parse(ctl("--json", "show", "3")).devices[0].name;
    fs.mkdirSync(path.join(RUN, "mounted"), { recursive: true });
    fs.writeFileSync(path.join(RUN, "mounted", stor), "");
    await page.click('#slot-3 button[data-action="remove"]');
    await page.click("#confirm-yes");
    const shown = await page.waitForFunction(() =>
      document.querySelector("#banner").textContent.includes("refused") &&
      document.querySelector("#slot-3 .reason").textContent.includes("mounted"),
      null, { timeout: 15000 }).then(() => true, () => false);
    ok(shown, "the refusal and the agent's reason are shown",
       await page.textContent("#banner"));
    ok(await state(3) === "on", "the refused slot stays on");
    await shot("4-refused");
    // A card nobody allowed: blocked, marked, authorized from the page.
    ctl("sim", "insert", "6", "gpu");
    ctl("sim", "advance", "1s");
    ctl("--yes", "add", "6");
    ok(await page.waitForSelector("#slot-6 .devices .blocked", { timeout: 15000 })
      .then(() => true, () => false), "a blocked function is marked BLOCKED");
    await shot("5-blocked");
    await page.click('#slot-6 button[data-action="authorize"]');
    await page.click("#confirm-yes");
    ok(await page.waitForFunction(() => !document.querySelector("#slot-6 .devices .blocked"),
      null, { timeout: 15000 }).then(() => true, () => false),
      "authorized from the page, the mark goes");
    ok(await page.waitForSelector('#events li[data-type="device-authorized"]', { timeout: 10000 })
      .then(() => true, () => false), "the authorization is in the event list");
    ok(external.length === 0, "nothing fetched from anywhere else", external.join(" "));
    ok(errors.length === 0, "no script error", errors.join("; "));
  } catch (e) {
    ok(false, "the page test ran to the end", String(e.stack || e));
    await shot("failure").catch(() => {});
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`web page: ${n} checks, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
