// files.test.mjs: no edit is ever lost in the panel's editor, and a files page that scales (issue 13, items
// 1-3 and 17), at 1280×800 and 390×844, with JavaScript on and off: a new file over an existing path is
// refused with the text kept; two tabs editing one file: the stale save shows what changed and offers
// "Overwrite with my version" and "Keep theirs (discard mine)"; leaving the editor with unsaved text asks
// first (JS); a delete from a stale list does not delete a changed file; 150 uploaded files: folders with a
// breadcrumb, a filter, sizes in units, New file and Upload at the top, 100 rows a page; a folder typed as
// "docs/guide/" is accepted and a refused folder keeps what was typed.
import { HtmlValidate } from 'html-validate';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, step, skip, notOk, finish, fakehubUp, signIn, expect, GHB, FAKEHUB } from './lib.mjs';

// The new page states held to the same standards as tests/e2e/standards.test.mjs (same rules).
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: { 'long-title': 'off', 'form-dup-name': ['error', { shared: ['radio', 'button', 'reset', 'submit', 'checkbox'] }] },
});
async function validHtml(html) {
  const report = await validator.validateString(html);
  const msgs = report.results.flatMap(res => res.messages.map(m => `${m.ruleId} at ${m.line}:${m.column}: ${m.message}`));
  expect(report.valid, msgs.slice(0, 5).join(' | '));
}
async function axeClean(pg) {
  await pg.addScriptTag({ content: axeSource });
  const res = await pg.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const v = res.violations.map(x => `${x.id} (${x.impact}) ×${x.nodes.length}: ${x.nodes[0] && x.nodes[0].target}`);
  expect(v.length === 0, v.join(' | '));
}

const browser = await launch();
const configs = [
  { name: '1280×800', viewport: { width: 1280, height: 800 }, js: true },
  { name: '390×844', viewport: { width: 390, height: 844 }, js: true },
  { name: '1280×800, no JavaScript', viewport: { width: 1280, height: 800 }, js: false },
  { name: '390×844, no JavaScript', viewport: { width: 390, height: 844 }, js: false },
];
const login = `files${process.pid}`;
const HOME = '<!doctype html>\n<title>Home</title>\n<h1>Home page</h1>\n<p>Welcome to the site, friend.</p>\n';

async function run(cfg) {
  const ctx = await browser.newContext({ viewport: cfg.viewport, javaScriptEnabled: cfg.js, bypassCSP: true }); // bypassCSP: for axe-core only
  const page = await ctx.newPage();
  const dialogs = [];
  page.on('dialog', d => { dialogs.push(d.type()); d.dismiss().catch(() => {}); });
  const at = name => `${cfg.name}: ${name}`;
  // FILES_SHOTS=<folder>: screenshots of the main states, to look at by eye.
  const shot = async (pg, name) => { if (process.env.FILES_SHOTS && cfg.js) await pg.screenshot({ path: `${process.env.FILES_SHOTS}/${cfg.viewport.width}-${name}.png` }); };
  let p = '', api = '';
  const content = async path => { const r = await page.request.get(`${api}/files/${path}`); return r.status() === 200 ? r.text() : `(${r.status()})`; };
  const noSideways = async () => {
    const w = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => 0);
    expect(w <= cfg.viewport.width, `page is ${w} px wide`);
  };
  // Saves the editor's form; with JS off a plain submit, the same for the server.
  const save = async (pg, text) => { await pg.fill('#content', text); await pg.click('button:has-text("Save")'); };
  try {
    await signIn(page, login);
    await page.goto(`${GHB}/projects`);
    await page.fill('#name', `Files ${cfg.name}`);
    await page.click('button:has-text("Create project")');
    await page.waitForURL(/\/projects\/\d+$/);
    p = page.url();
    api = p.replace('/projects/', '/api/v1/projects/');

    await step(at('item 1: New file over an existing path is refused, the text kept (was: replaced, "Saved.")'), async () => {
      await page.goto(`${p}/new`);
      await page.fill('#path', 'index.html');
      await save(page, HOME);
      await page.waitForURL(/\/files\?done=saved$/);
      await page.goto(`${p}/new`);
      await page.fill('#path', 'index.html');
      const [r] = await Promise.all([page.waitForResponse(r => r.request().method() === 'POST'), save(page, 'ten bytes!')]);
      expect(r.status() === 409, `save answered ${r.status()}`);
      await page.getByRole('heading', { name: 'This file already exists' }).waitFor();
      expect(await page.inputValue('#content') === 'ten bytes!', 'the typed text is gone');
      const diff = await page.locator('#conflict-diff').innerText();
      expect(diff.includes('-<h1>Home page</h1>') && diff.includes('+ten bytes!'), `diff: ${diff}`);
      expect(await content('index.html') === HOME, 'the file was replaced');
      await noSideways();
    });
    await step(at('… "Keep theirs (discard mine)" opens the file as it is'), async () => {
      await page.click('#keep-theirs');
      await page.waitForURL(/\/files\/index\.html$/);
      expect(await page.inputValue('#content') === HOME, 'the editor does not show the file');
      expect(dialogs.length === 0, `asked ${dialogs.join()} on an explicit discard`);
    });

    // Two tabs of one person, each with the editor of index.html open.
    const tabB = await ctx.newPage();
    tabB.on('dialog', d => { dialogs.push(d.type()); d.dismiss().catch(() => {}); });
    await step(at('item 2: two tabs: the stale save is refused with what changed (was: silently wiped)'), async () => {
      await page.goto(`${p}/files/index.html`);
      await tabB.goto(`${p}/files/index.html`);
      await save(page, `A line\n${HOME}`);
      await page.waitForURL(/\/files\?done=saved$/);
      const [r] = await Promise.all([tabB.waitForResponse(r => r.request().method() === 'POST'), save(tabB, `${HOME}B line\n`)]);
      expect(r.status() === 409, `stale save answered ${r.status()}`);
      await tabB.getByRole('heading', { name: 'Changed while you were editing' }).waitFor();
      expect(await tabB.inputValue('#content') === `${HOME}B line\n`, 'tab B lost its text');
      const diff = await tabB.locator('#conflict-diff').innerText();
      expect(diff.includes('-A line') && diff.includes('+B line'), `diff: ${diff}`);
      await shot(tabB, 'conflict');
      expect(await content('index.html') === `A line\n${HOME}`, 'tab A\'s edit was overwritten');
      expect(await tabB.getByRole('button', { name: 'Overwrite with my version' }).count() === 1, 'no overwrite choice');
      expect(await tabB.getByRole('link', { name: 'Keep theirs (discard mine)' }).count() === 1, 'no keep-theirs choice');
      const w = await tabB.evaluate(() => document.documentElement.scrollWidth).catch(() => 0);
      expect(w <= cfg.viewport.width, `conflict page is ${w} px wide`);
    });
    await step(at('… "Overwrite with my version" saves tab B\'s text over it'), async () => {
      await tabB.click('#overwrite');
      await tabB.waitForURL(/\/files\?done=saved$/);
      expect(await content('index.html') === `${HOME}B line\n`, `file: ${await content('index.html')}`);
    });
    await step(at('… "Keep theirs" after another race keeps the other tab\'s edit'), async () => {
      await page.goto(`${p}/files/index.html`);
      await tabB.goto(`${p}/files/index.html`);
      await save(page, 'A again\n');
      await page.waitForURL(/\/files\?done=saved$/);
      await save(tabB, 'B again\n');
      await tabB.getByRole('heading', { name: 'Changed while you were editing' }).waitFor();
      await tabB.click('#keep-theirs');
      await tabB.waitForURL(/\/files\/index\.html$/);
      expect(await tabB.inputValue('#content') === 'A again\n', 'the editor does not show theirs');
      expect(await content('index.html') === 'A again\n', 'the file is not theirs');
    });
    await step(at('… a file deleted while it was being edited: the text kept, "Save my version again"'), async () => {
      await page.goto(`${p}/new`);
      await page.fill('#path', 'notes.md');
      await save(page, 'first notes\n');
      await page.waitForURL(/done=saved/);
      await page.goto(`${p}/files/notes.md`);
      await tabB.goto(`${p}/files`);
      const csrf = await tabB.locator('input[name=csrf]').first().getAttribute('value');
      const d = await tabB.request.post(`${p}/files-delete`, { form: { csrf, path: 'notes.md', confirm: '1' }, maxRedirects: 0 });
      expect(d.status() === 303, `delete answered ${d.status()}`);
      await save(page, 'my notes\n');
      await page.getByRole('heading', { name: 'Deleted while you were editing' }).waitFor();
      expect(await page.inputValue('#content') === 'my notes\n', 'the typed text is gone');
      expect(await content('notes.md') === '(404)', 'the file came back unasked');
      await page.click('#overwrite');
      await page.waitForURL(/done=saved/);
      expect(await content('notes.md') === 'my notes\n', `file: ${await content('notes.md')}`);
    });
    await tabB.close();

    if (cfg.js) {
      await step(at('item 3: leaving the editor with unsaved text asks first; saving does not'), async () => {
        await page.goto(`${p}/files/index.html`);
        await page.click('#content');
        await page.keyboard.press('End');
        await page.keyboard.type('unsaved words');
        dialogs.length = 0;
        await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Overview', exact: true }).click();
        await page.waitForTimeout(300);
        expect(dialogs.includes('beforeunload'), `no beforeunload prompt (${dialogs.join()})`);
        expect(/\/files\/index\.html$/.test(page.url()), `left the editor: ${page.url()}`);
        dialogs.length = 0;
        await page.click('button:has-text("Save")');
        await page.waitForURL(/\/files\?done=saved$/);
        expect(dialogs.length === 0, `asked on save: ${dialogs.join()}`);
        await page.goto(`${p}/files/index.html`);
        await page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name: 'Overview', exact: true }).click();
        await page.waitForURL(/\/projects\/\d+$/);
        expect(dialogs.length === 0, `asked with nothing unsaved: ${dialogs.join()}`);
      });
    } else {
      skip(at('item 3: the unsaved-text prompt'), 'needs JavaScript (without it the server still refuses a stale save: item 2)');
    }

    await step(at('a delete from a stale files list does not delete a changed file'), async () => {
      await page.goto(`${p}/files`);
      const form = page.locator('form[action$="/files-delete"]').filter({ has: page.locator('input[name=path][value="index.html"]') });
      const fields = {};
      for (const n of ['csrf', 'path', 'version']) fields[n] = await form.locator(`input[name=${n}]`).getAttribute('value');
      expect(/^[0-9a-f]{40}$/.test(fields.version), `version ${fields.version}`);
      await page.goto(`${p}/files/index.html`);
      await save(page, 'changed after the list was shown\n');
      await page.waitForURL(/\/files\?done=saved$/);
      const r = await page.request.post(`${p}/files-delete`, { form: { ...fields, confirm: '1' }, maxRedirects: 0 });
      expect(r.status() === 409, `delete answered ${r.status()}`);
      expect((await r.text()).includes('was changed since'), 'no reason given');
      expect(await content('index.html') === 'changed after the list was shown\n', 'the file was deleted');
    });

    await step(at('item 17: 150 files uploaded into "docs/guide/" (a trailing / was refused)'), async () => {
      await page.goto(`${p}/files`);
      const files = [];
      for (let i = 0; i < 150; i++) {
        const n = String(i).padStart(3, '0');
        files.push({ name: `page-${n}.md`, mimeType: 'text/markdown', buffer: Buffer.from(i === 0 ? 'x'.repeat(2048) : `# Page ${n}\n`) });
      }
      await page.fill('#folder', 'docs/guide/');
      await page.setInputFiles('#files', files);
      await page.click('button:has-text("Upload")');
      await page.waitForURL(/\/files\?dir=docs\/guide&done=uploaded$/);
    });
    await step(at('… the folder shows 100 rows, actions at the top, pages'), async () => {
      expect(await page.locator('table.files tbody tr').count() === 100, `${await page.locator('table.files tbody tr').count()} rows`);
      await shot(page, 'folder');
      for (const loc of [page.getByRole('link', { name: 'New file' }), page.getByRole('button', { name: 'Upload' })]) {
        const box = await loc.boundingBox();
        expect(box && box.y + box.height <= cfg.viewport.height, `${await loc.innerText()} is not in the first screen (y ${box && box.y})`);
      }
      const pager = page.getByRole('navigation', { name: 'Pages' });
      expect(await pager.getByRole('link', { name: 'Next' }).count() === 1, 'no Next link');
      await noSideways();
      await pager.getByRole('link', { name: 'Next' }).click();
      await page.waitForURL(/page=2/);
      expect(await page.locator('table.files tbody tr').count() === 50, `page 2: ${await page.locator('table.files tbody tr').count()} rows`);
      expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Previous' }).count() === 1, 'no Previous link');
    });
    await step(at('… sizes in units'), async () => {
      await page.goto(`${p}/files?dir=docs/guide`);
      const row = page.locator('table.files tbody tr').filter({ hasText: 'page-000.md' });
      expect((await row.locator('td[data-label=Size]').innerText()).trim() === '2.0 KiB', await row.innerText());
      const row2 = page.locator('table.files tbody tr').filter({ hasText: 'page-001.md' });
      expect((await row2.locator('td[data-label=Size]').innerText()).trim() === '11 B', await row2.innerText());
    });
    await step(at('… browse by folder with a breadcrumb'), async () => {
      await page.goto(`${p}/files`);
      const rows = page.locator('table.files tbody tr');
      expect(await rows.count() === 3, `top folder: ${await rows.count()} rows (docs/, index.html, notes.md)`);
      expect((await rows.first().innerText()).includes('docs/'), 'folders do not come first');
      await page.getByRole('link', { name: 'docs/' }).click();
      await page.getByRole('link', { name: 'guide/' }).click();
      await page.waitForURL(/dir=docs\/guide$/);
      const crumbs = page.getByRole('navigation', { name: 'Folder' });
      expect((await crumbs.locator('[aria-current=page]').innerText()).trim() === 'guide', 'guide is not the current folder');
      await crumbs.getByRole('link', { name: 'docs' }).click();
      await page.waitForURL(/dir=docs$/);
      await page.getByRole('link', { name: 'guide/' }).waitFor();
    });
    await step(at('… filter by name'), async () => {
      await page.goto(`${p}/files`);
      await page.fill('#q', 'page-14');
      await page.click('button:has-text("Filter")');
      await page.waitForURL(/q=page-14/);
      expect(await page.locator('table.files tbody tr').count() === 10, `${await page.locator('table.files tbody tr').count()} rows`);
      await page.getByRole('link', { name: 'docs/guide/page-149.md' }).waitFor();
    });
    if (cfg.js) {
      await step(at('the new page states: html-validate and axe-core find nothing'), async () => {
        const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
        const stale = await page.request.post(`${p}/files`, { form: { csrf, path: 'index.html', content: 'mine\n', version: '0'.repeat(40) }, maxRedirects: 0 });
        expect(stale.status() === 409, `stale save answered ${stale.status()}`);
        await validHtml(await stale.text());
        const exists = await page.request.post(`${p}/files`, { form: { csrf, path: 'index.html', content: 'mine\n', version: '' }, maxRedirects: 0 });
        expect(exists.status() === 409, `new over existing answered ${exists.status()}`);
        await validHtml(await exists.text());
        for (const u of [`${p}/files?dir=docs/guide`, `${p}/files?dir=docs/guide&page=2`, `${p}/files?q=page-14`, `${p}/files?dir=docs`, `${p}/new?dir=docs/guide`]) {
          const r = await page.request.get(u);
          expect(r.status() === 200, `${u}: ${r.status()}`);
          await validHtml(await r.text());
          await page.goto(u);
          await axeClean(page);
          await noSideways();
        }
        // The conflict page as the browser shows it.
        await page.goto(`${p}/files/index.html`);
        const tab = await ctx.newPage();
        await tab.goto(`${p}/files/index.html`);
        await save(tab, 'the other tab\n');
        await tab.waitForURL(/done=saved/);
        await tab.close();
        await save(page, 'this tab\n');
        await page.getByRole('heading', { name: 'Changed while you were editing' }).waitFor();
        await axeClean(page);
        await noSideways();
      });
    }
    await step(at('… New file from a folder starts there'), async () => {
      await page.goto(`${p}/files?dir=docs/guide`);
      await page.getByRole('link', { name: 'New file' }).click();
      expect(await page.inputValue('#path') === 'docs/guide/', `path ${await page.inputValue('#path')}`);
    });
    await step(at('… a refused folder keeps what was typed'), async () => {
      await page.goto(`${p}/files`);
      const csrf = await page.locator('input[name=csrf]').first().getAttribute('value');
      const r = await page.request.post(`${p}/upload`, { multipart: { csrf, folder: 'docs/../x', files: { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('a') } }, maxRedirects: 0 });
      expect(r.status() === 400, `upload answered ${r.status()}`);
      const html = await r.text();
      expect(html.includes('value="docs/../x"'), 'the typed folder is gone');
      expect(html.includes('folder path may not contain'), 'no reason');
      if (cfg.js) {
        // In the browser the form refuses such a folder before sending, so the chosen files stay chosen.
        await page.fill('#folder', 'docs/../x');
        await page.setInputFiles('#files', [{ name: 'b.txt', mimeType: 'text/plain', buffer: Buffer.from('b') }]);
        await page.click('button:has-text("Upload")');
        await page.waitForTimeout(300);
        expect(/\/files$/.test(page.url()), `the form was sent: ${page.url()}`);
        expect(await page.$eval('#files', el => el.files.length) === 1, 'the chosen file is gone');
      }
    });
  } catch (e) {
    notOk(at('files run stopped'), e && e.message ? e.message : e);
  } finally {
    await ctx.close();
  }
}

try {
  if (!(await fakehubUp())) {
    skip('files in the browser', 'fakehub is not running');
  } else {
    await fetch(`${FAKEHUB}/_fakehub/users`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ login, name: 'Files Test' }) });
    for (const cfg of configs) await run(cfg);
  }
} catch (e) {
  notOk('files run stopped', e && e.message ? e.message : e);
} finally {
  await browser.close();
}
finish();
