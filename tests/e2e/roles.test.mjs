// roles.test.mjs: each project page shows only the actions the caller's role may take (the route table refuses
// the others with a 403 page, so a form shown to a role that cannot use it is a dead end that loses what was
// typed). A viewer and a developer, at 1280 and 360 px: the overview has no Rename or Delete (maintainer, owner)
// and, for a viewer, no Sync now; the files page has no New file, Upload or Delete for a viewer; a file opens
// read-only for a viewer, saying why; a pull request shows no Merge or Close below maintainer, saying why; the
// branches page has no Delete below maintainer and no New branch for a viewer. The owner still sees all of them.
// Each of those pages passes html-validate for each role. On a project not connected yet, the branches and new pull request pages lead on to Connect.
import { launch, step, skip, finish, fakehubUp, signIn, expect, GHB, FAKEHUB } from './lib.mjs';
import { HtmlValidate } from 'html-validate';

const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: { 'long-title': 'off', 'form-dup-name': ['error', { shared: ['radio', 'button', 'reset', 'submit', 'checkbox'] }] },
});
// valid page url: the page as served (before JavaScript) passes html-validate (a read-only page keeps no form
// without a submit button).
async function valid(page, url) {
  const report = await validator.validateString(await (await page.request.get(url)).text());
  const msgs = report.results.flatMap(res => res.messages.map(m => `${m.ruleId} at ${m.line}:${m.column}: ${m.message}`));
  expect(report.valid, `${url}: ${msgs.slice(0, 3).join(' | ')}`);
}

const S = `${process.pid}`;
const O = `ro${S}`, V = `rv${S}`, D = `rd${S}`;
const repo = `roles-${Date.now()}`;
const fh = (path, data) => fetch(`${FAKEHUB}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data) });

async function apiFor(page) {
  const html = await (await page.request.get(`${GHB}/projects`)).text();
  const csrf = (html.match(/name="csrf" value="([^"]+)"/) || [])[1];
  return async (method, path, data) => {
    const headers = { 'X-CSRF-Token': csrf, Origin: GHB };
    const opts = { method, headers };
    if (data !== undefined) { headers['Content-Type'] = 'application/json'; opts.data = JSON.stringify(data); }
    const r = await page.request.fetch(`${GHB}/api/v1${path}`, opts);
    let body = null;
    try { body = await r.json(); } catch { /* no body */ }
    return { status: r.status(), body };
  };
}
async function until(what, fn, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 300));
  }
}
// The labels of the buttons and button-links in main.
const actions = page => page.$$eval('main button, main a.button', bs => bs.map(b => b.textContent.trim()));
async function fits(page, what) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(w <= page.viewportSize().width, `${what}: ${w} px wide`);
}

if (!(await fakehubUp())) {
  skip('roles: every page shows only what the role allows', 'fakehub is not running');
  finish();
} else {
  const browser = await launch();
  let P = null, PR = null;
  try {
    const pages = {};
    for (const u of [O, V, D]) {
      await fh('/_fakehub/users', { login: u, name: u, email: `${u}@example.com` });
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      pages[u] = await ctx.newPage();
      await signIn(pages[u], u);
    }
    const api = await apiFor(pages[O]);
    await step('setup: a connected project with a viewer, a developer and an open pull request', async () => {
      P = (await api('POST', '/projects', { name: 'Roles' })).body.id;
      expect((await api('POST', `/projects/${P}/repository`, { mode: 'create', name: repo })).status < 300, 'connect');
      await until('the connection', async () => ((await api('GET', `/projects/${P}/status`)).body || {}).status === 'SUCCESS');
      const csrf = (await (await pages[O].request.get(`${GHB}/projects`)).text()).match(/name="csrf" value="([^"]+)"/)[1];
      const put = await pages[O].request.put(`${GHB}/api/v1/projects/${P}/files/a.txt`, { data: 'a\n', headers: { 'X-CSRF-Token': csrf, Origin: GHB, 'Content-Type': 'application/octet-stream' } });
      expect(put.status() === 201, `a file: ${put.status()}`);
      expect((await api('POST', `/projects/${P}/members`, { login: V, role: 'viewer' })).status === 202, 'invite V');
      expect((await api('POST', `/projects/${P}/members`, { login: D, role: 'developer' })).status === 202, 'invite D');
      await until('the members active', async () => {
        const ms = (await api('GET', `/projects/${P}/members`)).body.members || [];
        return [V, D].every(u => (ms.find(m => m.login === u) || {}).state === 'active');
      });
      expect((await api('POST', `/projects/${P}/branches`, { name: 'topic' })).status === 201, 'branch');
      expect((await api('POST', `/projects/${P}/branches`, { name: 'spare' })).status === 201, 'branch spare');
      const c = await fh(`/_fakehub/repos/${O}/${repo}/commits`, { as: O, branch: 'topic', path: 't.txt', content: 't\n', message: 't' });
      expect(c.status === 201, `fakehub commit ${c.status}`);
      const pr = await api('POST', `/projects/${P}/pulls`, { title: 'Topic', head: 'topic', base: 'main' });
      expect(pr.status === 201, `pull request ${pr.status}`);
      PR = pr.body.number;
      await until('a.txt synced', async () => ((await api('GET', `/projects/${P}/status`)).body || {}).status === 'SUCCESS');
    });
    await step('an unconnected project: branches and new pull request lead on to Connect (no dead end)', async () => {
      const q = (await api('POST', '/projects', { name: 'Bare' })).body.id;
      for (const u of ['branches', 'pulls/new']) {
        await pages[O].goto(`${GHB}/projects/${q}/${u}`);
        const link = pages[O].getByRole('main').getByRole('link', { name: 'Connect a GitHub repository' });
        expect(await link.count() === 1, `${u}: no Connect link`);
        expect((await link.getAttribute('href')) === `/projects/${q}/connect`, `${u}: href`);
      }
    });
    await step('new pull request with no pending changes offers an existing branch first (pending changes could only be refused)', async () => {
      await pages[D].goto(`${GHB}/projects/${P}/pulls/new`);
      expect(/\(0 file\(s\)\)/.test(await pages[D].innerText('main')), 'not 0 pending');
      expect(await pages[D].isChecked('#from-branch'), 'the branch choice is not the default');
    });
    for (const width of [1280, 360]) {
      for (const [who, role] of [[V, 'viewer'], [D, 'developer'], [O, 'owner']]) {
        const page = pages[who];
        await page.setViewportSize({ width, height: 800 });
        const tag = `${role}, ${width}px`;
        await step(`roles: the overview shows a ${tag} only the actions the role allows`, async () => {
          await page.goto(`${GHB}/projects/${P}`);
          const a = await actions(page);
          expect(a.includes('Sync now') === (role !== 'viewer'), `Sync now: ${a}`);
          expect(a.includes('Rename') === (role === 'owner'), `Rename: ${a}`);
          expect(a.includes('Delete project') === (role === 'owner'), `Delete project: ${a}`);
          await fits(page, 'overview');
        });
        await step(`roles: the files page and a file show a ${tag} only the actions the role allows`, async () => {
          await page.goto(`${GHB}/projects/${P}/files`);
          const a = await actions(page);
          for (const b of ['New file', 'Upload', 'Delete']) expect(a.includes(b) === (role !== 'viewer'), `${b}: ${a}`);
          await page.goto(`${GHB}/projects/${P}/files/a.txt`);
          const b = await actions(page);
          expect(b.includes('Save') === (role !== 'viewer'), `Save: ${b}`);
          expect(await page.locator('textarea#content').getAttribute('readonly') !== null === (role === 'viewer'), 'readonly');
          if (role === 'viewer') expect(/Your role on this project is viewer/.test(await page.innerText('#read-only')), 'says why');
          await fits(page, 'file');
          for (const u of ['', '/files', '/files/a.txt']) await valid(page, `${GHB}/projects/${P}${u}`);
        });
        await step(`roles: pull requests and branches show a ${tag} only the actions the role allows`, async () => {
          await page.goto(`${GHB}/projects/${P}/pulls`);
          expect((await actions(page)).includes('New pull request') === (role !== 'viewer'), 'New pull request');
          await page.goto(`${GHB}/projects/${P}/pulls/${PR}`);
          const a = await actions(page);
          expect(a.some(x => x.startsWith('Merge into')) === (role === 'owner'), `Merge: ${a}`);
          expect(a.includes('Close pull request') === (role === 'owner'), `Close: ${a}`);
          if (role !== 'owner') expect(new RegExp(`Your role on this project is ${role}`).test(await page.innerText('#merge-role')), 'says why');
          await page.goto(`${GHB}/projects/${P}/branches`);
          const b = await actions(page);
          expect(b.includes('Delete') === (role === 'owner'), `branch Delete: ${b}`);
          expect(b.includes('Create branch') === (role !== 'viewer'), `Create branch: ${b}`);
          await fits(page, 'branches');
          for (const u of ['/pulls', `/pulls/${PR}`, '/branches']) await valid(page, `${GHB}/projects/${P}${u}`);
        });
      }
    }
  } finally {
    await browser.close();
  }
  finish();
}
