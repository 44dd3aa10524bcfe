// lib.mjs: shared helpers for the browser tests: launch Debian's Chromium, TAP-style results.
import { chromium } from 'playwright-core';

export const GHB = process.env.GHB_URL;
export const FAKEHUB = process.env.FAKEHUB_URL;
let passed = 0, failed = 0;

export function ok(name) { passed++; console.log(`ok - ${name}`); }
export function notOk(name, detail) { failed++; console.log(`not ok - ${name} # ${String(detail).replace(/\n/g, ' ').slice(0, 300)}`); }
export function skip(name, why) { console.log(`skip - ${name} # ${why}`); }

// step NAME fn: runs fn; ok when it resolves, not ok with the error otherwise.
export async function step(name, fn) {
  try { await fn(); ok(name); return true; } catch (e) { notOk(name, e && e.message ? e.message : e); return false; }
}

export async function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export async function fakehubUp() {
  try { const r = await fetch(`${FAKEHUB}/api/v3/rate_limit`); return r.status > 0; } catch { return false; }
}

// Signs in through fakehub's authorize page as login; ends on ghbridge.
export async function signIn(page, login) {
  await page.goto(`${GHB}/`);
  await page.getByRole('link', { name: 'Sign in with GitHub' }).first().click();
  await page.waitForURL(u => u.toString().startsWith(FAKEHUB));
  await page.fill('input[name=login]', login);
  await page.click('#authorize');
  await page.waitForURL(u => u.toString().startsWith(GHB));
}

export function finish() {
  console.log(`# ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

export function expect(cond, msg) { if (!cond) throw new Error(msg); }
