// sync.test.mjs: in the browser: sign in, create a project, add a file in the editor, the Link list loads, connect a new repository (a job the page follows), Sync now, see the commit in the history.
import { launch, step, skip, finish, fakehubUp, signIn, expect, GHB, FAKEHUB } from './lib.mjs';

const browser = await launch();
const page = await browser.newPage();
const errors = [];
page.on('response', r => { if (r.status() >= 400 && r.url().startsWith(GHB)) errors.push(`${r.status()} ${r.url()}`); });
page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });

// Waits until the project page's status is one of want. The page follows a running
// sync by itself (static/app.js polls the status API and reloads when it ends), so
// the test does not reload: a status that never changes here is a failure.
async function waitStatus(want, seconds = 60) {
  const until = Date.now() + seconds * 1000;
  let st = '';
  while (Date.now() < until) {
    try { st = (await page.locator('#status').innerText({ timeout: 2000 })).trim(); } catch { /* mid-reload */ }
    if (want.includes(st)) return st;
    await page.waitForTimeout(300);
  }
  throw new Error(`status still ${st}`);
}

// The project's tabs (other links on a page may carry the same words).
const nav = name => page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name, exact: true });

const login = `e2e${process.pid}`;
const repo = `browser-${Date.now()}`;
let projectUrl = '';
try {
  if (!(await fakehubUp())) {
    skip('sync in the browser', 'fakehub is not running');
  } else {
    // A user of this test's own, so nothing another test did shows up here.
    await fetch(`${FAKEHUB}/_fakehub/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login, name: 'Browser Test' }) });
    await step('sign in through GitHub', async () => {
      await signIn(page, login);
      expect(await page.locator('.site-header .account').innerText() === login, `header does not show ${login}`);
    });
    await step('create a project', async () => {
      await page.goto(`${GHB}/projects`);
      await page.fill('#name', 'Browser site');
      await page.click('button:has-text("Create project")');
      await page.waitForURL(/\/projects\/\d+$/);
      projectUrl = page.url();
      await page.getByRole('heading', { name: 'Browser site' }).waitFor();
    });
    await step('add a file in the editor', async () => {
      await nav('Files').click();
      await page.getByRole('link', { name: 'New file' }).click();
      await page.fill('#path', 'index.html');
      await page.fill('#content', '<h1>Made in the browser</h1>\n');
      await page.click('button:has-text("Save")');
      await page.waitForURL(/\/files\?done=saved$/);
      await page.getByRole('link', { name: 'index.html' }).waitFor();
      expect(await page.locator('.file-new').count() === 1, 'index.html is not listed as new');
    });
    await step('the Link list loads by itself', async () => {
      await nav('Repository').click();
      // A new user: nothing was read from GitHub yet. A job reads the list; app.js follows it and
      // reloads the page once it is in (this user has no repository yet).
      await page.getByText(/GitHub lists no repository you can push to: create one above/).waitFor({ timeout: 30000 });
      await page.getByText(/Updated just now/).waitFor();
    });
    await step('connect with a new repository', async () => {
      await page.fill('#c-name', repo);
      await page.click('button:has-text("Create and connect")');
      // The connect job runs after the answer: the project page follows it ("Connecting to …"), then
      // reloads by itself to show the repository and the initial sync.
      await page.waitForURL(u => u.toString().startsWith(projectUrl));
      await page.getByRole('link', { name: `${login}/${repo}` }).first().waitFor({ timeout: 30000 });
      await waitStatus(['SUCCESS']);
    });
    await step('Sync now', async () => {
      await page.click('button:has-text("Sync now")');
      // Nothing changed since the initial sync: the page says so rather than "Sync queued." (issue 13).
      await page.getByText(/Sync queued\.|Nothing to sync/).first().waitFor();
      await waitStatus(['SUCCESS']);
    });
    await step('history shows the commit that is on GitHub', async () => {
      await nav('History').click();
      await page.getByRole('heading', { name: /sync history/ }).waitFor();
      const rows = page.locator('tbody tr');
      expect(await rows.count() >= 2, `${await rows.count()} history rows`);
      const triggers = await page.locator('tbody tr td:nth-child(2)').allInnerTexts();
      expect(triggers.includes('manual') && triggers.includes('initial'), `triggers ${triggers.join(',')}`);
      const sha = (await page.locator('tbody tr a[href*="/commit/"] code').first().innerText()).trim();
      expect(/^[0-9a-f]{40}$/.test(sha), `commit ${sha}`);
      const tok = await (await fetch(`${FAKEHUB}/_fakehub/users/${login}/tokens`, { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ scope: 'repo' }) })).json();
      const br = await (await fetch(`${FAKEHUB}/api/v3/repos/${login}/${repo}/branches/main`,
        { headers: { Authorization: `Bearer ${tok.token}` } })).json();
      expect(br.commit && br.commit.sha === sha, `GitHub's main is ${br.commit && br.commit.sha}, history says ${sha}`);
    });
    await step('history at 360 px: successful rows show no empty "Error:" label', async () => {
      await page.setViewportSize({ width: 360, height: 800 });
      await page.reload();
      const cells = page.locator('tbody tr td[data-label="Error"]');
      const n = await cells.count();
      expect(n >= 2, `${n} error cells`);
      for (let i = 0; i < n; i++) {
        const text = (await cells.nth(i).innerText()).trim();
        expect(text !== '' || !(await cells.nth(i).isVisible()), `row ${i}: an empty Error cell is shown`);
      }
      await page.setViewportSize({ width: 1280, height: 800 });
    });
    await step('the commit\'s files are listed on its history page', async () => {
      await page.locator('tbody tr').last().locator('a').first().click();
      await page.getByText('index.html').first().waitFor();
    });
  }
  await step('no console errors or failed requests', async () => {
    expect(errors.length === 0, errors.join(' | '));
  });
} finally {
  await browser.close();
  finish();
}
