// confirm.test.mjs (issue 13, part H): at 1280×800 and 390×844, with JavaScript on and off: every destructive
// action asks first (a dialog with JavaScript, a confirm page without) and saying no changes nothing; merge names
// its method and target branch; a draft offers "Ready for review" instead of Merge; a repository another project
// is connected to is shown as such and refused with its name; project names are trimmed and a long one wraps;
// flashes say what happened; error pages keep the signed-in header and lead back to the project; errors sit at
// their fields (aria-invalid, aria-describedby) with what was typed kept, and focus goes to the first one.
import { HtmlValidate } from 'html-validate';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, step, skip, notOk, finish, fakehubUp, signIn, expect, GHB, FAKEHUB } from './lib.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// The same rules as standards.test.mjs, for the page states only this test reaches (POST answers).
const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: { 'long-title': 'off', 'form-dup-name': ['error', { shared: ['radio', 'button', 'reset', 'submit', 'checkbox'] }] },
});
async function valid(html, what) {
  const report = await validator.validateString(html);
  const msgs = report.results.flatMap(res => res.messages.map(m => `${m.ruleId} at ${m.line}:${m.column}: ${m.message}`));
  expect(report.valid, `${what}: ${msgs.slice(0, 4).join(' | ')}`);
}
async function axeClean(page, what) {
  await page.addScriptTag({ content: axeSource });
  const res = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const v = res.violations.map(x => `${x.id} (${x.impact}) ×${x.nodes.length}: ${x.nodes[0] && x.nodes[0].target}`);
  expect(v.length === 0, `${what}: ${v.join(' | ')}`);
}

const browser = await launch();
const login = `cf${process.pid}`;
const repo = `confirm-${Date.now()}`;
const sizes = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
const combos = [];
for (const js of [true, false]) for (const size of sizes) combos.push({ js, size, tag: `${size.width}px, JavaScript ${js ? 'on' : 'off'}` });

async function fits(page, what) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  const vw = page.viewportSize().width;
  expect(w <= vw, `${what}: the page is ${w} px wide in a ${vw} px window`);
}

// The session's JSON API, as the panel's own user (cookie + CSRF header).
let api;
async function apiFor(page) {
  const html = await (await page.request.get(`${GHB}/projects`)).text();
  const csrf = (html.match(/name="csrf" value="([^"]+)"/) || [])[1];
  return async (method, path, data, raw) => {
    const headers = { 'X-CSRF-Token': csrf, Origin: GHB };
    const opts = { method, headers };
    if (data !== undefined) {
      headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
      opts.data = raw ? data : JSON.stringify(data);
    }
    const r = await page.request.fetch(`${GHB}/api/v1${path}`, opts);
    let body = null;
    try { body = await r.json(); } catch { /* no body */ }
    return { status: r.status(), body };
  };
}
const fh = (path, data) => fetch(`${FAKEHUB}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data) });

// The destructive step: click opens the dialog (JS) or the confirm page (no JS); text must match both;
// cancel says no and nothing may change, else it confirms.
async function confirmStep(page, js, { click, text, cancel }) {
  const before = page.url();
  await click();
  if (js) {
    const d = page.locator('dialog.confirm-dialog');
    await d.waitFor({ state: 'visible' });
    const t = await d.innerText();
    expect(text.test(t), `dialog says: ${t}`);
    const box = await d.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= page.viewportSize().width, `the dialog does not fit: ${JSON.stringify(box)}`);
    expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'confirm-dialog-no', 'focus is not on Cancel');
    if (cancel) {
      await page.click('#confirm-dialog-no');
      await d.waitFor({ state: 'hidden' });
      expect(page.url() === before, `cancelling left the page: ${page.url()}`);
    } else {
      await page.click('#confirm-dialog-yes');
    }
  } else {
    await page.locator('#confirm-what').waitFor();
    const t = await page.locator('.confirm-page').innerText();
    expect(text.test(t), `confirm page says: ${t}`);
    await fits(page, 'confirm page');
    if (cancel) await page.locator('.confirm-page').getByRole('link', { name: 'Cancel' }).click();
    else await page.locator('.confirm-page button[type=submit]').click();
  }
}

try {
  if (!(await fakehubUp())) {
    skip('confirmations in the browser', 'fakehub is not running');
  } else {
    await fh('/_fakehub/users', { login, name: 'Confirm Test' });
    const setupCtx = await browser.newContext({ viewport: sizes[0] });
    const setup = await setupCtx.newPage();
    await signIn(setup, login);
    api = await apiFor(setup);
    let P = 0, P2 = 0;
    await step('setup: a project connected to a new repository, a second project', async () => {
      P = (await api('POST', '/projects', { name: 'Confirm one' })).body.id;
      for (let i = 0; i < combos.length; i++) await api('PUT', `/projects/${P}/files/del-${i}.txt`, `delete me ${i}\n`, true);
      const c = await api('POST', `/projects/${P}/repository`, { mode: 'create', name: repo });
      expect(c.status === 202, `connect: ${c.status}`);
      const until = Date.now() + 60000;
      let st = {};
      while (Date.now() < until) {
        st = (await api('GET', `/projects/${P}/status`)).body || {};
        if (st.status === 'SUCCESS' && st.repository) break;
        await setup.waitForTimeout(300);
      }
      expect(st.status === 'SUCCESS', `status ${st.status}`);
      P2 = (await api('POST', '/projects', { name: 'Confirm two' })).body.id;
      // branches (one per combo to delete, one per combo to merge) and a draft
      for (let i = 0; i < combos.length; i++) {
        for (const b of [`del/b${i}`, `merge/m${i}`]) expect((await api('POST', `/projects/${P}/branches`, { name: b })).status === 201, `branch ${b}`);
        await fh(`/_fakehub/repos/${login}/${repo}/commits`, { as: login, branch: `merge/m${i}`, path: `m${i}.txt`, content: `m${i}\n`, message: `m${i}` });
      }
      expect((await api('POST', `/projects/${P}/branches`, { name: 'draft/one' })).status === 201, 'branch draft/one');
      await fh(`/_fakehub/repos/${login}/${repo}/commits`, { as: login, branch: 'draft/one', path: 'draft.txt', content: 'd\n', message: 'draft' });
    });
    const pulls = [];
    let draft = 0;
    await step('setup: pull requests, one a draft', async () => {
      for (let i = 0; i < combos.length; i++) {
        const r = await api('POST', `/projects/${P}/pulls`, { title: `Merge ${i}`, head: `merge/m${i}` });
        expect(r.status === 201, `pull ${i}: ${r.status} ${JSON.stringify(r.body)}`);
        pulls.push(r.body.number);
      }
      const d = await api('POST', `/projects/${P}/pulls`, { title: 'A draft', head: 'draft/one', draft: true });
      expect(d.status === 201, `draft: ${d.status}`);
      draft = d.body.number;
    });

    await step('the new page states pass html-validate (recommended) and axe-core', async () => {
      const html = await (await setup.request.get(`${GHB}/projects/${P}/files`)).text();
      const csrf = (html.match(/name="csrf" value="([^"]+)"/) || [])[1];
      const form = { csrf, path: 'del-0.txt' };
      const post = async (path, data, headers = {}) => (await setup.request.post(`${GHB}${path}`, { form: data, headers: { Origin: GHB, ...headers }, maxRedirects: 0 })).text();
      const states = [
        ['confirm page (file delete)', await post(`/projects/${P}/files-delete`, form)],
        ['confirm page (merge)', await post(`/projects/${P}/pulls/${pulls[0]}/merge`, { csrf, method: 'squash', delete_branch: '1' })],
        ['projects, a refused name at its field', await post('/projects', { csrf, name: '   ' })],
        ['project, a refused delete at its field', await post(`/projects/${P2}/delete`, { csrf, confirm: 'nope' })],
        ['account, a refused key at its fields', await post('/account/keys', { csrf, name: 'x', expires_days: '90' })],
        ['404 under a project', await (await setup.request.get(`${GHB}/projects/${P}/files/none.txt`)).text()],
        ['draft pull request', await (await setup.request.get(`${GHB}/projects/${P}/pulls/${draft}`)).text()],
        ['Link list with a repository in use', await (await setup.request.get(`${GHB}/projects/${P2}/connect?q=${repo}`)).text()],
      ];
      for (const [what, h] of states) await valid(h, what);
      // axe on what a browser shows: the confirm page (a POST answer) and the refused forms
      const axeCtx = await browser.newContext({ viewport: sizes[1], bypassCSP: true });
      const ap = await axeCtx.newPage();
      for (const [what, h] of states) {
        await ap.setContent(h.replace('<head>', `<head><base href="${GHB}/">`));
        await axeClean(ap, what);
      }
      await axeCtx.close();
    });

    for (let i = 0; i < combos.length; i++) {
      const { js, size, tag } = combos[i];
      const ctx = await browser.newContext({ viewport: size, javaScriptEnabled: js });
      const page = await ctx.newPage();
      await signIn(page, login);
      const proj = `${GHB}/projects/${P}`;

      await step(`${tag}: deleting a file asks first, names the file and what auto-sync does; No keeps it`, async () => {
        await page.goto(`${proj}/files`);
        await fits(page, 'files');
        await confirmStep(page, js, {
          cancel: true, text: new RegExp(`del-${i}\\.txt[\\s\\S]*Auto-sync is on: the file is deleted from ${login}/${repo} \\(branch main\\) too`),
          click: () => page.getByRole('button', { name: `Delete del-${i}.txt` }).click(),
        });
        await page.goto(`${proj}/files`);
        expect(await page.getByRole('button', { name: `Delete del-${i}.txt` }).count() === 1, 'the file went away');
      });
      await step(`${tag}: … Yes deletes it, and the page says "The file was deleted."`, async () => {
        await confirmStep(page, js, { text: new RegExp(`del-${i}\\.txt`), click: () => page.getByRole('button', { name: `Delete del-${i}.txt` }).click() });
        await page.waitForURL(/files\?done=deleted$/);
        await page.getByText('The file was deleted.').waitFor();
        expect(await page.getByRole('button', { name: `Delete del-${i}.txt` }).count() === 0, 'still listed');
        await fits(page, 'files after a delete');
      });
      await step(`${tag}: deleting a branch asks first, naming it and the repository; No keeps it, Yes deletes it`, async () => {
        await page.goto(`${proj}/branches`);
        await fits(page, 'branches');
        const btn = () => page.getByRole('button', { name: `Delete the branch del/b${i}` }).click();
        const text = new RegExp(`branch del/b${i}[\\s\\S]*${login}/${repo}`);
        await confirmStep(page, js, { cancel: true, text, click: btn });
        await page.goto(`${proj}/branches`);
        expect(await page.locator(`tr[data-branch="del/b${i}"]`).count() === 1, 'the branch went away');
        await confirmStep(page, js, { text, click: btn });
        await page.waitForURL(/branches\?done=deleted$/);
        expect(await page.locator(`tr[data-branch="del/b${i}"]`).count() === 0, 'still listed');
      });
      await step(`${tag}: merging asks first with the method and the target branch; No keeps it open, Yes merges`, async () => {
        await page.goto(`${proj}/pulls/${pulls[i]}`);
        await fits(page, 'pull request');
        await page.selectOption('#method', 'squash');
        const text = /into main[\s\S]*Squash and merge/;
        const click = () => page.click('#merge-form button[type=submit]');
        await confirmStep(page, js, { cancel: true, text, click });
        await page.goto(`${proj}/pulls/${pulls[i]}`);
        expect((await page.locator('#pr-state').innerText()) === 'open', 'no longer open');
        await page.selectOption('#method', 'squash');
        await confirmStep(page, js, { text, click });
        await page.waitForURL(/done=merged/);
        expect((await page.locator('#pr-state').innerText()) === 'merged', 'not merged');
      });
      await step(`${tag}: a draft offers "Ready for review", not Merge`, async () => {
        await page.goto(`${proj}/pulls/${draft}`);
        await page.locator('#draft-note').waitFor();
        expect(await page.locator('#merge-form').count() === 0, 'a merge form for a draft');
        expect(await page.getByRole('button', { name: 'Ready for review' }).count() === 1, 'no Ready for review button');
        await fits(page, 'draft pull request');
      });
      await step(`${tag}: disconnecting the repository asks first; No keeps it connected`, async () => {
        await page.goto(`${proj}/connect`);
        await confirmStep(page, js, { cancel: true, text: new RegExp(`Disconnect[\\s\\S]*${login}/${repo}`), click: () => page.click('button:has-text("Disconnect")') });
        await page.goto(`${proj}/connect`);
        await page.getByRole('link', { name: `${login}/${repo}` }).first().waitFor();
      });
      await step(`${tag}: the repository shows as project one's in project two's Link list; linking it by name is refused with that name`, async () => {
        await page.goto(`${GHB}/projects/${P2}/connect?q=${repo}`);
        const until = Date.now() + 30000;
        while (Date.now() < until && await page.locator('.in-use').count() === 0) {
          await page.waitForTimeout(500);
          await page.goto(`${GHB}/projects/${P2}/connect?q=${repo}`);
        }
        expect((await page.locator('.in-use').first().innerText()).includes('“Confirm one”'), 'not marked');
        await fits(page, 'connect page');
        await page.locator('summary').click();
        await page.fill('#l-owner', login);
        await page.fill('#l-name', repo);
        await page.click('details button[type=submit]');
        await page.getByText('Your project “Confirm one” is connected to').first().waitFor();
      });
      await step(`${tag}: a name of spaces is refused at its field (aria-invalid, aria-describedby), what was typed kept${js ? ', focus on it' : ''}`, async () => {
        await page.goto(`${GHB}/projects`);
        await page.fill('#name', '   ');
        await page.click('button:has-text("Create project")');
        await page.locator('#name-error').waitFor();
        expect(await page.locator('#name').getAttribute('aria-invalid') === 'true', 'no aria-invalid');
        expect(await page.locator('#name').getAttribute('aria-describedby') === 'name-error', 'no aria-describedby');
        expect((await page.locator('#name').inputValue()) === '   ', 'what was typed is gone');
        if (js) expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'name', 'focus is not on the name');
        await fits(page, 'projects with an error');
        await page.fill('#name', `\u00a0 Trim me ${i}\u3000 `);
        await page.click('button:has-text("Create project")');
        await page.waitForURL(/\/projects\/\d+$/);
        expect((await page.locator('h1').innerText()) === `Trim me ${i}`, `heading: ${await page.locator('h1').innerText()}`);
      });
      await step(`${tag}: a 100-character name without spaces wraps (the page keeps its width); deleting the project says so`, async () => {
        await page.goto(`${GHB}/projects`);
        const long = `L${'o'.repeat(98)}${i}`;
        await page.fill('#name', long);
        await page.click('button:has-text("Create project")');
        await page.waitForURL(/\/projects\/\d+$/);
        expect((await page.locator('h1').innerText()) === long, `heading: ${await page.locator('h1').innerText()}`);
        await fits(page, 'project with a long name');
        await page.fill('#confirm', 'not the name');
        await page.click('button:has-text("Delete project")');
        await page.locator('#confirm-error').waitFor();
        expect(await page.locator('#confirm').getAttribute('aria-invalid') === 'true', 'no aria-invalid on confirm');
        expect((await page.locator('#confirm').inputValue()) === 'not the name', 'what was typed is gone');
        if (js) expect(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'confirm', 'focus is not on the confirm field');
        await page.fill('#confirm', long);
        await page.click('button:has-text("Delete project")');
        await page.waitForURL(/\/projects\?done=deleted$/);
        await page.getByText('The project was deleted.').waitFor();
        await page.goto(`${GHB}/projects`);
        await fits(page, 'projects list');
      });
      await step(`${tag}: an API key without a scope: the error at the scopes, the name kept; revoking asks first`, async () => {
        await page.goto(`${GHB}/account`);
        await page.fill('#key-name', `key ${i}`);
        await page.click('button:has-text("Create API key")');
        await page.locator('#scope-error').waitFor();
        expect((await page.locator('#key-name').inputValue()) === `key ${i}`, 'the name was cleared');
        if (js) expect(await page.evaluate(() => document.activeElement && document.activeElement.name) === 'scope', 'focus is not on the scopes');
        await page.locator('input[name=scope][value=sync]').check();
        await page.click('button:has-text("Create API key")');
        await page.locator('#new-key').waitFor();
        await page.goto(`${GHB}/account`);
        await fits(page, 'account');
        const btn = () => page.getByRole('button', { name: `Revoke the API key key ${i}` }).click();
        await confirmStep(page, js, { cancel: true, text: new RegExp(`Revoke the API key “key ${i}”`), click: btn });
        await page.goto(`${GHB}/account`);
        expect(await page.getByRole('button', { name: `Revoke the API key key ${i}` }).count() === 1, 'revoked on No');
        await confirmStep(page, js, { text: new RegExp(`Revoke the API key “key ${i}”`), click: btn });
        await page.waitForURL(/done=revoked/);
        expect(await page.getByRole('button', { name: `Revoke the API key key ${i}` }).count() === 0, 'not revoked');
      });
      await step(`${tag}: ending another session, signing out everywhere and disconnecting GitHub ask first; No changes nothing`, async () => {
        await page.goto(`${GHB}/account`);
        const end = page.locator('form[action$="/end"] button').first();
        expect(await end.count() === 1, 'no other session to end');
        await confirmStep(page, js, { cancel: true, text: /session signed in at/, click: () => end.click() });
        await page.goto(`${GHB}/account`);
        await confirmStep(page, js, { cancel: true, text: /Sign out everywhere\?/, click: () => page.click('button:has-text("Sign out everywhere")') });
        await page.goto(`${GHB}/account`);
        await confirmStep(page, js, { cancel: true, text: /Disconnect GitHub\?/, click: () => page.click('button:has-text("Disconnect GitHub")') });
        await page.goto(`${GHB}/account`);
        expect(await page.locator('.site-header .account').count() === 1, 'signed out');
        expect(await page.getByRole('button', { name: 'Disconnect GitHub' }).count() === 1, 'GitHub was disconnected');
      });
      await step(`${tag}: error pages keep the signed-in header; a 404 under the project leads back to it`, async () => {
        const r = await page.goto(`${proj}/files/no/such/file.txt`);
        expect(r.status() === 404, `status ${r.status()}`);
        expect(await page.locator('.site-header .account').count() === 1, 'no signed-in header');
        expect(await page.getByRole('link', { name: 'Sign in with GitHub' }).count() === 0, 'offers to sign in');
        await page.locator('#error-project').click();
        await page.waitForURL(new RegExp(`/projects/${P}$`));
        const r2 = await page.goto(`${GHB}/no-such-page`);
        expect(r2.status() === 404, `status ${r2.status()}`);
        expect(await page.locator('.site-header .account').count() === 1, 'no signed-in header on a routing 404');
        await fits(page, '404');
      });
      await ctx.close();
    }

    // The last ones really happen: the end of a session, the repository disconnected, GitHub disconnected,
    // and signing out everywhere (with JavaScript on at 390 px, off at 1280 px).
    const a = await browser.newContext({ viewport: sizes[1] });
    const pa = await a.newPage();
    await signIn(pa, login);
    await step('390px, JavaScript on: ending another session signs that browser out', async () => {
      await pa.goto(`${GHB}/account`);
      const n = await pa.locator('form[action$="/end"] button').count();
      await confirmStep(pa, true, { text: /session signed in at/, click: () => pa.locator('form[action$="/end"] button').first().click() });
      await pa.waitForURL(/done=session/);
      expect(await pa.locator('form[action$="/end"] button').count() === n - 1, 'no session ended');
    });
    await step('390px, JavaScript on: Sync now with nothing pending says "Nothing to sync", never a lingering "Sync queued."', async () => {
      await pa.goto(`${GHB}/projects/${P}`);
      const until = Date.now() + 60000;
      while (Date.now() < until && (await pa.locator('#status').innerText()).trim() !== 'SUCCESS') { await pa.waitForTimeout(500); await pa.reload(); }
      await pa.click('button:has-text("Sync now")');
      await pa.getByText('Nothing to sync').first().waitFor();
      const end = Date.now() + 60000;
      while (Date.now() < end) {
        try { if ((await pa.locator('#status').innerText({ timeout: 2000 })).trim() === 'SUCCESS') break; } catch { /* mid-reload */ }
        await pa.waitForTimeout(300);
      }
      await pa.waitForTimeout(1000);
      expect(await pa.getByText('Sync queued.').count() === 0, '"Sync queued." after the sync ended');
    });
    await step('390px, JavaScript on: disconnecting the repository says so (not "Saved.")', async () => {
      await pa.goto(`${GHB}/projects/${P}/connect`);
      await confirmStep(pa, true, { text: new RegExp(`Disconnect[\\s\\S]*${login}/${repo}`), click: () => pa.click('button:has-text("Disconnect")') });
      await pa.waitForURL(/done=disconnected/);
      await pa.getByText('Disconnected. The repository and everything in it stay on GitHub.').waitFor();
    });
    const b = await browser.newContext({ viewport: sizes[0], javaScriptEnabled: false });
    const pb = await b.newPage();
    await signIn(pb, login);
    await step('1280px, JavaScript off: disconnecting GitHub, then signing out everywhere', async () => {
      await pb.goto(`${GHB}/account`);
      await confirmStep(pb, false, { text: /Disconnect GitHub\?/, click: () => pb.click('button:has-text("Disconnect GitHub")') });
      await pb.waitForURL(/done=disconnected/);
      await pb.getByText('GitHub was disconnected').waitFor();
      await confirmStep(pb, false, { text: /Sign out everywhere\?/, click: () => pb.click('button:has-text("Sign out everywhere")') });
      await pb.waitForURL(u => new URL(u).pathname === '/');
      const r = await pa.goto(`${GHB}/account`);
      expect(new URL(pa.url()).pathname === '/login' || r.status() !== 200 || await pa.locator('.site-header .account').count() === 0, 'the other browser is still signed in');
    });
    await a.close();
    await b.close();
    await setupCtx.close();
  }
} catch (e) {
  notOk('confirm run stopped', e && e.message ? e.message : e);
} finally {
  await browser.close();
}
finish();
