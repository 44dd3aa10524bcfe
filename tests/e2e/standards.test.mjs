// standards.test.mjs: every page state of the panel against html-validate's recommended rules and axe-core
// (every impact), at 360 px wide without sideways scrolling, with a skip link, and the project tabs marking
// the current one. The HTML validated is the server's own answer (what a browser without JavaScript gets).
import { HtmlValidate } from 'html-validate';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, step, skip, notOk, finish, fakehubUp, signIn, expect, GHB, FAKEHUB } from './lib.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    // Long words in user content (paths, commit SHAs) are data, not markup style.
    'long-title': 'off',
    // A group of checkboxes shares one name by HTML's design (the form sends each checked value).
    'form-dup-name': ['error', { shared: ['radio', 'button', 'reset', 'submit', 'checkbox'] }],
  },
});

const browser = await launch();
const context = await browser.newContext({ viewport: { width: 360, height: 740 }, bypassCSP: true });
const page = await context.newPage();

// Validates the HTML the server sent for url, runs axe-core on the rendered page and measures its width.
async function checkPage(label, url, { status = 200 } = {}) {
  await step(`${label}: html-validate (recommended) finds nothing`, async () => {
    const r = await page.request.get(url, { maxRedirects: 0 });
    expect(r.status() === status, `${url} answered ${r.status()}, expected ${status}`);
    const html = await r.text();
    const report = await validator.validateString(html);
    const msgs = report.results.flatMap(res => res.messages.map(m => `${m.ruleId} at ${m.line}:${m.column}: ${m.message}`));
    expect(report.valid, msgs.slice(0, 5).join(' | '));
  });
  await page.goto(url);
  await step(`${label}: axe-core reports no violation at any impact`, async () => {
    await page.addScriptTag({ content: axeSource });
    const res = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
    const v = res.violations.map(x => `${x.id} (${x.impact}) ×${x.nodes.length}: ${x.nodes[0] && x.nodes[0].target}`);
    expect(v.length === 0, v.join(' | '));
  });
  await step(`${label}: fits 360 px without sideways scrolling`, async () => {
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(w <= 360, `page is ${w} px wide`);
  });
  await step(`${label}: a skip link leads to the main content`, async () => {
    expect(await page.locator('a.skip-link').count() === 1, 'no skip link (a.skip-link)');
    const href = await page.locator('a.skip-link').getAttribute('href');
    expect(href === '#main', `skip link href ${href}`);
    expect(await page.locator('#main').count() === 1, 'no #main');
  });
}

const login = `std${process.pid}`;
const repo = `standards-${Date.now()}`;
try {
  await checkPage('start page, signed out', `${GHB}/`);
  await checkPage('404 page, signed out', `${GHB}/no-such-page`, { status: 404 });
  if (!(await fakehubUp())) {
    skip('signed-in pages', 'fakehub is not running');
  } else {
    await fetch(`${FAKEHUB}/_fakehub/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login, name: 'Standards Test' }) });
    await signIn(page, login);
    await checkPage('projects, none yet', `${GHB}/projects`);
    await page.goto(`${GHB}/projects`);
    await page.fill('#name', 'A project whose name is long enough to need wrapping on a small phone screen');
    await page.click('button:has-text("Create project")');
    await page.waitForURL(/\/projects\/\d+$/);
    const p = page.url();
    await page.goto(`${p}/new`);
    await page.fill('#path', 'docs/a-rather-long-folder-name/another-long-folder/index.html');
    await page.fill('#content', '<h1>hello</h1>\n');
    await page.click('button:has-text("Save")');
    await page.waitForURL(/\/files/);
    await checkPage('projects, one', `${GHB}/projects`);
    await checkPage('project overview', p);
    await checkPage('files', `${p}/files`);
    await checkPage('file editor', `${p}/files/docs/a-rather-long-folder-name/another-long-folder/index.html`);
    await checkPage('new file', `${p}/new`);
    await checkPage('repository (not connected)', `${p}/connect`);
    await checkPage('settings', `${p}/settings`);
    await checkPage('history, empty', `${p}/history`);
    await checkPage('pull requests, not connected', `${p}/pulls`);
    await checkPage('members, not connected', `${p}/members`);
    await checkPage('account', `${GHB}/account`);
    // More than 20 sessions: the sessions list pages (its links to newer and older sessions validate too).
    for (let i = 0; i < 20; i++) {
      const other = await browser.newContext();
      await signIn(await other.newPage(), login);
      await other.close();
    }
    await step('account: the sessions list pages at 20', async () => {
      await page.goto(`${GHB}/account`);
      expect(/^Page 1 of 2 \(21 sessions\)/.test(await page.locator('#sessions-paging').innerText()), `paging: ${await page.locator('#sessions-paging').innerText()}`);
    });
    await checkPage('account, sessions page 1 of 2', `${GHB}/account`);
    await checkPage('account, sessions page 2 of 2', `${GHB}/account?sessions_page=2`);
    await checkPage('project 404, signed in', `${GHB}/projects/999999999`, { status: 404 });

    // Connected, with a sync in the history, branches and a pull request.
    await page.goto(`${p}/connect`);
    await page.getByText(/No repository you can push to matches|Updated/).first().waitFor({ timeout: 30000 });
    await page.fill('#c-name', repo);
    await page.click('button:has-text("Create and connect")');
    await page.waitForURL(u => u.toString().startsWith(p));
    await page.getByRole('link', { name: `${login}/${repo}` }).first().waitFor({ timeout: 30000 });
    const until = Date.now() + 60000;
    while (Date.now() < until) {
      const st = await page.request.get(`${p.replace('/projects/', '/api/v1/projects/')}/status`).then(r => r.json()).catch(() => ({}));
      if (st.status === 'SUCCESS') break;
      await page.waitForTimeout(300);
    }
    await checkPage('project overview, connected', p);
    await checkPage('history with a sync', `${p}/history`);
    const one = await page.request.get(`${p}/history`).then(r => r.text());
    const m = one.match(/href="(\/projects\/\d+\/history\/\d+)"/);
    if (m) await checkPage('one history row', `${GHB}${m[1]}`);
    else skip('one history row', 'no history link found');
    await checkPage('repository (connected)', `${p}/connect`);
    await checkPage('branches', `${p}/branches`);
    await checkPage('pull requests, none', `${p}/pulls`);
    await checkPage('new pull request', `${p}/pulls/new`);
    await checkPage('members (connected: GitHub access, differences)', `${p}/members`);
    await page.goto(`${p}/members`);
    await page.fill('#login', 'nosuchuser-standards');
    await page.click('#invite button[type=submit]');
    await page.waitForURL(/\/members\?done=invited/);
    await checkPage('members, one invitation', `${p}/members`);
    // A collaborator added on GitHub directly (a difference with two actions), a member's GitHub call in the log
    // (one that failed, with Retry), and the confirm pages of "Remove from GitHub" and "members are authoritative".
    {
      const stranger = `stx${process.pid}`, invitee = `sti${process.pid}`;
      for (const u of [stranger, invitee])
        await fetch(`${FAKEHUB}/_fakehub/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: u }) });
      const tok = await fetch(`${FAKEHUB}/_fakehub/users/${login}/tokens`, { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ scope: 'repo' }) }).then(r => r.json());
      await fetch(`${FAKEHUB}/api/v3/repos/${login}/${repo}/collaborators/${stranger}`, { method: 'PUT',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok.token}` }, body: '{"permission":"push"}' });
      await fetch(`${FAKEHUB}/_fakehub/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ method: 'PUT', path: `/api/v3/repos/${login}/${repo}/collaborators/${invitee}`, kind: 'status', status: 422, count: 1 }) });
      await page.goto(`${p}/members`);
      await page.fill('#login', invitee);
      await page.click('#invite button[type=submit]');
      await page.waitForURL(/\/members\?done=invited/);
      await page.click('button:has-text("Compare with GitHub")');
      const until2 = Date.now() + 30000;
      let html = '';
      while (Date.now() < until2) {
        html = await page.request.get(`${p}/members`).then(r => r.text());
        if (html.includes(`data-drift="${stranger}"`) && html.includes('data-state="failed"')) break;
        await page.waitForTimeout(500);
      }
      if (html.includes(`data-drift="${stranger}"`) && html.includes('data-state="failed"')) {
        await checkPage('members with a difference and a failed GitHub call', `${p}/members`);
        await page.goto(`${p}/members`);
        const csrf = await page.locator('input[name=csrf]').first().inputValue();
        for (const [label, path, form] of [['confirm: remove from GitHub', 'drift/remove', { login: stranger }],
          ['confirm: members are authoritative', 'collaborator-settings', { authoritative: 'on' }]]) {
          await step(`${label}: html-validate (recommended) finds nothing`, async () => {
            const r = await page.request.post(`${p}/${path}`, { form: { csrf, ...form } });
            expect(r.status() === 200, `${label}: ${r.status()}`);
            const report = await validator.validateString(await r.text());
            const msgs = report.results.flatMap(res => res.messages.map(m => `${m.ruleId} at ${m.line}:${m.column}: ${m.message}`));
            expect(report.valid, msgs.slice(0, 5).join(' | '));
          });
        }
      } else notOk('members with a difference and a failed GitHub call', 'the comparison or the failed call did not show');
      await fetch(`${FAKEHUB}/_fakehub/faults`, { method: 'DELETE' });
    }

    await step('the project tabs mark the current one (aria-current and a visible mark)', async () => {
      for (const [path, name] of [['', 'Overview'], ['/files', 'Files'], ['/settings', 'Settings'], ['/history', 'History'], ['/pulls', 'Pull requests'], ['/members', 'Members']]) {
        await page.goto(`${p}${path}`);
        const cur = page.getByRole('navigation', { name: 'Project' }).locator('a[aria-current="page"]');
        expect(await cur.count() === 1, `${path || '/'}: ${await cur.count()} current tabs`);
        expect((await cur.innerText()).trim() === name, `${path || '/'}: current tab is ${await cur.innerText()}`);
        const weight = await cur.evaluate(el => getComputedStyle(el).fontWeight);
        expect(Number(weight) >= 600, `current tab is not marked (font-weight ${weight})`);
      }
    });
    await step('after sign-in the user lands on their projects', async () => {
      const ctx2 = await browser.newContext();
      const pg2 = await ctx2.newPage();
      await signIn(pg2, login);
      expect(new URL(pg2.url()).pathname === '/projects', `landed on ${pg2.url()}`);
      await ctx2.close();
    });
  }
} catch (e) {
  notOk('standards run stopped', e && e.message ? e.message : e);
} finally {
  await browser.close();
}
finish();
