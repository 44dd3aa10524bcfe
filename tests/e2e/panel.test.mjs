// panel.test.mjs (issue 13 items 8, 13, 14, 15, 16, 18): at 1280×800 and 390×844, with JavaScript on and off:
// sign-in lands on the projects page; the current project tab is marked; a batched sync says when it runs;
// settings refuse an unknown placeholder and a pattern that excludes every file at the field, keeping what
// was typed; the new pull request form keeps each choice's fields beneath it; the Members tab shows a collaborator
// added on GitHub directly with "Add as member" and "Remove from GitHub" (asked first: a dialog with JavaScript, a
// confirm page without) and whether members are authoritative (issue 14); no page scrolls sideways.
import { launch, step, skip, notOk, finish, fakehubUp, signIn, expect, GHB, FAKEHUB } from './lib.mjs';

const browser = await launch();
const login = `pn${process.pid}`;
const repo = `panel-${Date.now()}`;
const stranger = `pnx${process.pid}`;
const sizes = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];

async function fits(page, what) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(w <= page.viewportSize().width, `${what}: ${w} px wide at ${page.viewportSize().width} px`);
}

try {
  if (!(await fakehubUp())) {
    skip('panel tests', 'fakehub is not running');
  } else {
    await fetch(`${FAKEHUB}/_fakehub/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login, name: 'Panel Test' }) });
    // One connected project, made once with JavaScript on; every combination below works on it.
    const setup = await browser.newContext({ viewport: sizes[0] });
    const sp = await setup.newPage();
    await signIn(sp, login);
    let projectUrl = '';
    await step('setup: a connected project with two files', async () => {
      await sp.goto(`${GHB}/projects`);
      await sp.fill('#name', 'Panel site');
      await sp.click('button:has-text("Create project")');
      await sp.waitForURL(/\/projects\/\d+$/);
      projectUrl = sp.url();
      for (const [path, body] of [['index.html', '<h1>hi</h1>\n'], ['notes/a.md', '# a\n']]) {
        await sp.goto(`${projectUrl}/new`);
        await sp.fill('#path', path);
        await sp.fill('#content', body);
        await sp.click('button:has-text("Save")');
        await sp.waitForURL(/\/files/);
      }
      await sp.goto(`${projectUrl}/connect`);
      await sp.getByText(/No repository you can push to matches|Updated/).first().waitFor({ timeout: 30000 });
      await sp.fill('#c-name', repo);
      await sp.click('button:has-text("Create and connect")');
      await sp.getByRole('link', { name: `${login}/${repo}` }).first().waitFor({ timeout: 30000 });
      const api = projectUrl.replace('/projects/', '/api/v1/projects/');
      const until = Date.now() + 60000;
      while (Date.now() < until) {
        const st = await sp.request.get(`${api}/status`).then(r => r.json()).catch(() => ({}));
        if (st.status === 'SUCCESS') return;
        await sp.waitForTimeout(300);
      }
      throw new Error('the first sync did not end');
    });
    await step('setup: a collaborator added on GitHub directly, found by "Compare with GitHub"', async () => {
      await fetch(`${FAKEHUB}/_fakehub/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ login: stranger }) });
      const tok = await fetch(`${FAKEHUB}/_fakehub/users/${login}/tokens`, { method: 'POST',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ scope: 'repo' }) }).then(r => r.json());
      const put = await fetch(`${FAKEHUB}/api/v3/repos/${login}/${repo}/collaborators/${stranger}`, { method: 'PUT',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok.token}` }, body: '{"permission":"push"}' });
      expect(put.status === 201, `PUT collaborator: ${put.status}`);
      await sp.goto(`${projectUrl}/members`);
      await sp.click('button:has-text("Compare with GitHub")');
      const until = Date.now() + 30000;
      while (Date.now() < until) {
        await sp.goto(`${projectUrl}/members`);
        if (await sp.locator(`tr[data-drift="${stranger}"]`).count()) return;
        await sp.waitForTimeout(500);
      }
      throw new Error('the stranger was not found');
    });
    await setup.close();

    for (const js of [true, false]) {
      for (const size of sizes) {
        const tag = `${size.width}px, JavaScript ${js ? 'on' : 'off'}`;
        const ctx = await browser.newContext({ viewport: size, javaScriptEnabled: js });
        const page = await ctx.newPage();
        await step(`${tag}: sign-in lands on the projects page (item 16)`, async () => {
          await page.goto(`${GHB}/login`);
          await page.waitForURL(u => u.toString().startsWith(FAKEHUB));
          await page.fill('input[name=login]', login);
          await page.click('#authorize');
          await page.waitForURL(u => u.toString().startsWith(GHB));
          expect(new URL(page.url()).pathname === '/projects', `landed on ${page.url()}`);
          await page.getByRole('link', { name: 'Panel site' }).waitFor();
          await fits(page, 'projects');
        });
        await step(`${tag}: the current project tab is marked (item 15)`, async () => {
          for (const [path, name] of [['', 'Overview'], ['/files', 'Files'], ['/history', 'History']]) {
            await page.goto(`${projectUrl}${path}`);
            const cur = page.getByRole('navigation', { name: 'Project' }).locator('a[aria-current="page"]');
            expect((await cur.count()) === 1 && (await cur.innerText()).trim() === name, `${path || '/'}: no single current tab "${name}"`);
            await fits(page, `tab ${name}`);
          }
        });
        await step(`${tag}: settings refuse an unknown placeholder at the field, keeping the text (item 13)`, async () => {
          await page.goto(`${projectUrl}/settings`);
          await page.fill('#tmpl', 'Sync {{nope}} {{project}}');
          await page.click('button:has-text("Save settings")');
          await page.getByText(/Unknown placeholder '\{\{nope\}\}'/).waitFor();
          expect(await page.inputValue('#tmpl') === 'Sync {{nope}} {{project}}', 'the template typed was not kept');
          await fits(page, 'settings with an error');
        });
        await step(`${tag}: a pattern that excludes every file is refused, and counts show per pattern (item 13)`, async () => {
          await page.goto(`${projectUrl}/settings`);
          await page.fill('#excludes', '*');
          await page.click('button:has-text("Save settings")');
          await page.getByText(/exclude every file in the project \((\d+) of \1\)/).waitFor();
          await page.goto(`${projectUrl}/settings`);
          await page.fill('#excludes', 'notes/\n*.tmp');
          await page.click('button:has-text("Save settings")');
          await page.getByText('Settings saved.').waitFor();
          await page.locator('ul.patterns li', { hasText: 'notes/' }).getByText('1 file(s)').waitFor();
          await page.locator('ul.patterns li', { hasText: '*.tmp' }).getByText('no file').waitFor();
          await fits(page, 'settings with counts');
        });
        await step(`${tag}: a batched sync says when it runs, not an empty step (item 8)`, async () => {
          await page.goto(`${projectUrl}/settings`);
          await page.check('input[name=auto_sync]');
          await page.fill('#batch', '5');
          await page.click('button:has-text("Save settings")');
          await page.getByText('Settings saved.').waitFor();
          await page.goto(`${projectUrl}/new`);
          await page.fill('#path', `batched-${size.width}-${js ? 'js' : 'nojs'}.txt`);
          await page.fill('#content', 'waits for the batch\n');
          await page.click('button:has-text("Save")');
          await page.waitForURL(/\/files/);
          await page.goto(projectUrl);
          await page.getByText(/Runs at \d\d:\d\d UTC \(in [1-5] min\)\./).waitFor();
          expect(!(await page.content()).includes('Step: .'), 'an empty "Step: ." is shown');
          await page.getByRole('button', { name: 'Sync now' }).waitFor();
          await fits(page, 'overview with a batched sync');
        });
        await step(`${tag}: the new pull request form keeps each choice's fields beneath it (item 18)`, async () => {
          await page.goto(`${projectUrl}/pulls/new`);
          const choices = page.locator('#new-pull .choice');
          expect(await choices.count() === 2, `${await choices.count()} choices`);
          expect(await choices.nth(0).locator('#from-changes').count() === 1 && await choices.nth(0).locator('#new_branch').count() === 1,
            'the pending-changes choice does not hold the new branch field');
          expect(await choices.nth(1).locator('#from-branch').count() === 1 && await choices.nth(1).locator('input#head[type=text]').count() === 1,
            'the existing-branch choice does not hold a text Branch field');
          expect(await page.locator('select#head').count() === 0, 'Branch is a drop-down');
          await fits(page, 'new pull request');
        });
        await step(`${tag}: the Members tab shows the difference with GitHub, removal asked first (issue 14)`, async () => {
          await page.goto(`${projectUrl}/members`);
          const row = page.locator(`tr[data-drift="${stranger}"]`);
          const add = row.getByRole('button', { name: `Add as member (developer): ${stranger}` });
          await add.waitFor();
          // The role it gives is on the button for everyone, not only in its accessible name (engineer J's item 2).
          expect((await add.innerText()).trim() === 'Add as member (developer)', `the button reads "${await add.innerText()}"`);
          await page.getByText(/Off:/).first().waitFor();
          await fits(page, 'members with a difference');
          await row.getByRole('button', { name: `Remove from GitHub: ${stranger}` }).click();
          if (js) {
            const d = page.locator('dialog.confirm-dialog');
            await d.waitFor();
            expect(/Remove .* from the repository on GitHub/.test(await d.innerText()), 'the dialog does not say what goes');
            await page.click('#confirm-dialog-no');
            expect(new URL(page.url()).pathname.endsWith('/members'), `left the tab: ${page.url()}`);
          } else {
            await page.getByRole('heading', { name: new RegExp(`Remove ${stranger} from .* on GitHub\\?`) }).waitFor();
            await fits(page, 'the removal confirm page');
            await page.goBack();
          }
          await page.goto(`${projectUrl}/members`);
          expect(await page.locator(`tr[data-drift="${stranger}"]`).count() === 1, 'the difference went without a yes');
        });
        await ctx.close();
      }
    }
  }
} catch (e) {
  notOk('panel run stopped', e && e.message ? e.message : e);
} finally {
  await browser.close();
}
finish();
