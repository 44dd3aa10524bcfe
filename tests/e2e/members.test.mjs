// members.test.mjs (issue 14): the Members tab in a browser, at 1280×800 and 360×740, with JavaScript on and off.
// An owner invites by GitHub login with a role (the row and its state, the flash, the invitation on fakehub once
// the job ran); a malformed login is refused at its field (aria-invalid, aria-describedby, what was typed kept,
// focus on it with JavaScript); a login GitHub does not know is said so on its row; a role changes; removing asks
// first (a dialog with JavaScript, a confirm page without) and No changes nothing; the last owner can be neither
// demoted nor removed (in words); ownership is transferred after a confirmation; a viewer sees the tab read-only
// and a developer's hand-made POST gets a 403 page in words. Every page fits its window, and every page state
// passes html-validate and axe-core (the rules of standards.test.mjs). Selectors go by role, label and text, so
// more actions on the tab (drift) do not break them.
import { HtmlValidate } from 'html-validate';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, step, skip, notOk, finish, fakehubUp, signIn, expect, GHB, FAKEHUB } from './lib.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
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
async function fits(page, what) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  const vw = page.viewportSize().width;
  expect(w <= vw, `${what}: the page is ${w} px wide in a ${vw} px window`);
}
async function focused(page) { return page.evaluate(() => document.activeElement && document.activeElement.id); }

const S = `${process.pid}`;
const O = `mo${S}`, V = `mv${S}`, D = `md${S}`, T = `mt${S}`;
const repo = `members-${Date.now()}`;
const sizes = [{ width: 1280, height: 800 }, { width: 360, height: 740 }];
const combos = [];
for (const js of [true, false]) for (const size of sizes) combos.push({ js, size, tag: `${size.width}px, JavaScript ${js ? 'on' : 'off'}` });
const invitee = i => `mi${i}x${S}`;

const fh = (path, data) => fetch(`${FAKEHUB}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data) });

// The session's JSON API, as the panel's own user (cookie + CSRF header).
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
async function until(what, fn, ms = 30000, page = null) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await (page ? page.waitForTimeout(300) : new Promise(r => setTimeout(r, 300)));
  }
}

// The row of the members table for login (by its text; the table is the one headed "GitHub user", "Role", …).
const membersTable = page => page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Role' }) });
const row = (page, login) => membersTable(page).getByRole('row').filter({ hasText: login });

// A destructive step: click opens the dialog (JS) or the confirm page (no JS); its text must match; cancel says No.
async function confirmStep(page, js, { click, text, cancel }) {
  const before = page.url();
  await click();
  if (js) {
    const d = page.getByRole('dialog');
    await d.waitFor({ state: 'visible' });
    const t = await d.innerText();
    expect(text.test(t), `dialog says: ${t}`);
    const box = await d.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= page.viewportSize().width, `the dialog does not fit: ${JSON.stringify(box)}`);
    expect(await focused(page) === 'confirm-dialog-no', 'focus is not on Cancel');
    if (cancel) {
      await d.getByRole('button', { name: 'Cancel' }).click();
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

const browser = await launch();
try {
  if (!(await fakehubUp())) {
    skip('the Members tab in the browser', 'fakehub is not running');
  } else {
    for (const u of [O, V, D, T, ...combos.map((_, i) => invitee(i))]) await fh('/_fakehub/users', { login: u, name: `Members ${u}` });
    const setupCtx = await browser.newContext({ viewport: sizes[0] });
    const setup = await setupCtx.newPage();
    // V, D and T sign in once (an invitation becomes active for a GitHub user who has signed in).
    const people = {};
    for (const u of [V, D, T]) {
      const ctx = await browser.newContext({ viewport: sizes[1] });
      people[u] = { ctx, page: await ctx.newPage() };
      await signIn(people[u].page, u);
    }
    await signIn(setup, O);
    const api = await apiFor(setup);
    const member = async (pid, login) => ((await api('GET', `/projects/${pid}/members`)).body.members || []).find(m => m.login === login);
    const ownerToken = (await (await fh(`/_fakehub/users/${O}/tokens`, { scope: 'repo' })).json()).token;
    const invitations = async () => {
      const r = await fetch(`${FAKEHUB}/api/v3/repos/${O}/${repo}/invitations`, { headers: { Authorization: `Bearer ${ownerToken}` } });
      return r.ok ? (await r.json()).map(x => x.invitee && x.invitee.login) : [];
    };

    let P = 0;
    const transferProjects = [];
    await step('setup: a project connected to a new repository; a viewer and a developer; one project per run to transfer', async () => {
      P = (await api('POST', '/projects', { name: 'Members tab' })).body.id;
      const c = await api('POST', `/projects/${P}/repository`, { mode: 'create', name: repo });
      expect(c.status === 202, `connect: ${c.status}`);
      let st = {};
      await until('the connection', async () => {
        st = (await api('GET', `/projects/${P}/status`)).body || {};
        return st.status === 'SUCCESS' && st.repository;
      }, 60000);
      for (const [u, role] of [[V, 'viewer'], [D, 'developer']]) {
        const r = await api('POST', `/projects/${P}/members`, { login: u, role });
        expect(r.status === 202, `invite ${u}: ${r.status}`);
      }
      for (let i = 0; i < combos.length; i++) {
        const q = (await api('POST', '/projects', { name: `Transfer me ${i}` })).body.id;
        expect((await api('POST', `/projects/${q}/members`, { login: T, role: 'developer' })).status === 202, 'invite T');
        transferProjects.push(q);
      }
      await until('the viewer and the developer active', async () =>
        (await member(P, V) || {}).state === 'active' && (await member(P, D) || {}).state === 'active');
      for (const q of transferProjects) await until('the transferee active', async () => (await member(q, T) || {}).state === 'active');
    });

    await step('every page state of the tab passes html-validate (recommended) and axe-core', async () => {
      const html = await (await setup.request.get(`${GHB}/projects/${P}/members`)).text();
      const csrf = (html.match(/name="csrf" value="([^"]+)"/) || [])[1];
      const post = async (path, data) => {
        const r = await setup.request.post(`${GHB}${path}`, { form: { csrf, ...data }, headers: { Origin: GHB }, maxRedirects: 0 });
        return [r.status(), await r.text()];
      };
      const vPage = await (await people[V].page.request.get(`${GHB}/projects/${P}/members`)).text();
      const states = [
        ['members (owner, connected)', [200, html]],
        ['members, a malformed login at its field', await post(`/projects/${P}/members`, { login: '-bad--login', role: 'developer' })],
        ['confirm page (lower a role)', await post(`/projects/${P}/members/role`, { member: O, role: 'viewer' })],
        ['members, the last owner kept', await post(`/projects/${P}/members/role`, { member: O, role: 'viewer', confirm: '1' })],
        ['members, a transfer refused at its field', await post(`/projects/${P}/members/transfer`, { member: `nobody${S}`, confirm: '1' })],
        ['members, a hand-made role that is no role', await post(`/projects/${P}/members/role`, { member: D, role: 'admin' })],
        ['confirm page (remove)', await post(`/projects/${P}/members/remove`, { member: D })],
        ['confirm page (transfer)', await post(`/projects/${P}/members/transfer`, { member: D })],
        ['members (viewer)', [200, vPage]],
      ];
      const [, badRole] = states.find(x => x[0] === 'members, a hand-made role that is no role')[1];
      expect(/id="members-error"[^>]*>The role is one of viewer, developer, maintainer or owner\./.test(badRole) && !/id="role-error"/.test(badRole),
        'a bad role for a row is shown at the invite form\'s role, not above the table');
      const axeCtx = await browser.newContext({ viewport: sizes[1], bypassCSP: true });
      const ap = await axeCtx.newPage();
      for (const [what, [status, h]] of states) {
        expect(status >= 200 && status < 500, `${what}: status ${status}`);
        await valid(h, what);
        await ap.setContent(h.replace('<head>', `<head><base href="${GHB}/">`));
        await axeClean(ap, what);
      }
      await axeCtx.close();
    });

    for (let i = 0; i < combos.length; i++) {
      const { js, size, tag } = combos[i];
      const ctx = await browser.newContext({ viewport: size, javaScriptEnabled: js, bypassCSP: true });
      const page = await ctx.newPage();
      await signIn(page, O);
      const url = `${GHB}/projects/${P}/members`;
      const who = invitee(i);

      await step(`${tag}: the tab fits the window and axe-core finds nothing`, async () => {
        await page.goto(url);
        expect((await page.getByRole('heading', { level: 1 }).innerText()).includes('members'), 'no members heading');
        await fits(page, 'members');
        if (js) await axeClean(page, 'members');
      });
      await step(`${tag}: a malformed login is refused at its field (aria-invalid, aria-describedby), what was typed kept${js ? ', focus on it' : ''}`, async () => {
        await page.goto(url);
        const login = page.getByLabel('GitHub login');
        await login.fill('-bad--login');
        await page.getByRole('button', { name: 'Invite', exact: true }).click();
        await page.locator('#login-error').waitFor();
        expect(/1 to 39 letters, digits or single hyphens/.test(await page.locator('#login-error').innerText()), 'the error is not in words');
        expect(await login.getAttribute('aria-invalid') === 'true', 'no aria-invalid');
        expect(await login.getAttribute('aria-describedby') === 'login-error', 'no aria-describedby');
        expect(await login.inputValue() === '-bad--login', 'what was typed is gone');
        if (js) expect(await focused(page) === 'login', `focus is on ${await focused(page)}`);
        expect(await row(page, '-bad--login').count() === 0, 'a row for the malformed login');
        await fits(page, 'members with an error');
      });
      await step(`${tag}: inviting ${who} as developer: the flash says so, the row shows the role and "invited"`, async () => {
        await page.goto(url);
        await page.getByLabel('GitHub login').fill(who);
        await page.getByLabel('Role', { exact: true }).selectOption('developer');
        await page.getByRole('button', { name: 'Invite', exact: true }).click();
        await page.waitForURL(/members\?done=invited$/);
        await page.getByText('Invitation recorded: GitHub is asked who that is.').waitFor();
        const r = row(page, who);
        expect(await r.count() === 1, `${await r.count()} rows for ${who}`);
        const t = await r.innerText();
        expect(/invited: active when they first sign in/.test(t), `row says: ${t}`);
        expect(await r.getByLabel(`Role of ${who}`, { exact: true }).inputValue() === 'developer', 'the role is not developer');
        await fits(page, 'members after an invitation');
      });
      await step(`${tag}: inviting ${who} again is refused at the login, in words`, async () => {
        await page.goto(url);
        await page.getByLabel('GitHub login').fill(who.toUpperCase());
        await page.getByRole('button', { name: 'Invite', exact: true }).click();
        await page.locator('#login-error').waitFor();
        expect((await page.locator('#login-error').innerText()).includes('is a member or invited already'), 'not in words');
        expect(await page.getByLabel('GitHub login').inputValue() === who.toUpperCase(), 'what was typed is gone');
      });
      await step(`${tag}: a login GitHub does not know is recorded, and its row says GitHub has no such user`, async () => {
        const nobody = `nosuch${i}x${S}`;
        await page.goto(url);
        await page.getByLabel('GitHub login').fill(nobody);
        await page.getByRole('button', { name: 'Invite', exact: true }).click();
        await page.waitForURL(/done=invited$/);
        await until('the lookup', async () => {
          await page.goto(url);
          return /no user/i.test(await row(page, nobody).innerText());
        }, 30000, page);
        await fits(page, 'members with a lookup error');
      });
      await step(`${tag}: once the job ran, fakehub holds the invitation and the GitHub column says "invited (push)" (a personal repository: GitHub gives write)`, async () => {
        await until('the invitation on fakehub', async () => (await invitations()).includes(who), 30000, page);
        let t = '';
        await until('the GitHub column', async () => {
          await page.goto(url);
          t = await row(page, who).innerText();
          return /invited \(push\)/.test(t);
        }, 20000, page).catch(e => { throw new Error(`${e.message}: the row says ${t}`); });
      });
      await step(`${tag}: lowering ${who}'s role to viewer asks first (${js ? 'a dialog' : 'a confirm page'}); Cancel keeps developer`, async () => {
        await page.goto(url);
        const go = async () => {
          await row(page, who).getByLabel(`Role of ${who}`, { exact: true }).selectOption('viewer');
          await page.getByRole('button', { name: `Change the role of ${who}`, exact: true }).click();
        };
        await confirmStep(page, js, { cancel: true, text: new RegExp(`Lower the role of ${who} to viewer\\?${js ? '' : '[\\s\\S]*from developer to viewer'}`), click: go });
        if (!js) await page.waitForURL(u => u.toString() === url);
        expect(await row(page, who).getByLabel(`Role of ${who}`, { exact: true }).inputValue() === 'developer', 'the select does not show developer after Cancel');
        expect((await member(P, who)).role === 'developer', 'the API says the role changed');
      });
      await step(`${tag}: … confirmed, it says "Role changed." and keeps it`, async () => {
        await page.goto(url);
        await confirmStep(page, js, { text: new RegExp(`Lower the role of ${who} to viewer\\?`), click: async () => {
          await row(page, who).getByLabel(`Role of ${who}`, { exact: true }).selectOption('viewer');
          await page.getByRole('button', { name: `Change the role of ${who}`, exact: true }).click();
        } });
        await page.waitForURL(/done=role$/);
        await page.getByText('Role changed.').waitFor();
        expect(await row(page, who).getByLabel(`Role of ${who}`, { exact: true }).inputValue() === 'viewer', 'the role did not change');
        expect((await member(P, who)).role === 'viewer', 'the API says otherwise');
      });
      await step(`${tag}: … and once the job ran the invitation ghbridge sent is gone from fakehub, and the GitHub column says why`, async () => {
        await until('the invitation gone from fakehub', async () => !(await invitations()).includes(who), 20000, page);
        let t = '';
        await until('the GitHub column', async () => {
          await page.goto(url);
          t = await row(page, who).innerText();
          return /skipped[\s\S]*a viewer is not invited there; the access ghbridge had given was removed/.test(t);
        }, 20000, page).catch(e => { throw new Error(`${e.message}: the row says ${t}`); });
        await fits(page, 'members with a skipped viewer');
      });
      await step(`${tag}: raising ${who} back to developer needs no confirmation, and GitHub is invited again`, async () => {
        await page.goto(url);
        await row(page, who).getByLabel(`Role of ${who}`, { exact: true }).selectOption('developer');
        await page.getByRole('button', { name: `Change the role of ${who}`, exact: true }).click();
        await page.waitForURL(/done=role$/);
        await page.getByText('Role changed.').waitFor();
        await until('the new invitation on fakehub', async () => (await invitations()).includes(who), 20000, page);
        await until('the GitHub column', async () => {
          await page.goto(url);
          return /invited \(push\)/.test(await row(page, who).innerText());
        }, 20000, page);
      });
      await step(`${tag}: the last owner cannot be demoted (after the confirmation): the error in words, the role unchanged`, async () => {
        await page.goto(url);
        await confirmStep(page, js, { text: new RegExp(`Lower the role of ${O} to maintainer`), click: async () => {
          await row(page, O).getByLabel(`Role of ${O}`, { exact: true }).selectOption('maintainer');
          await page.getByRole('button', { name: `Change the role of ${O}`, exact: true }).click();
        } });
        await page.getByText('A project keeps at least one owner: make another member an owner first.').waitFor();
        expect((await member(P, O)).role === 'owner', 'demoted');
        await fits(page, 'members with the last-owner error');
      });
      await step(`${tag}: removing the last owner asks first, then is refused in words`, async () => {
        await page.goto(url);
        await confirmStep(page, js, { text: new RegExp(`Remove ${O} from Members tab`), click: () => page.getByRole('button', { name: `Remove ${O}`, exact: true }).click() });
        await page.getByText('A project keeps at least one owner: make another member an owner first.').waitFor();
        expect((await member(P, O)).role === 'owner', 'removed');
      });
      await step(`${tag}: removing ${who} asks first (${js ? 'a dialog' : 'a confirm page'}); No keeps them`, async () => {
        await page.goto(url);
        await confirmStep(page, js, { cancel: true, text: new RegExp(`Remove ${who} from Members tab`), click: () => page.getByRole('button', { name: `Remove ${who}`, exact: true }).click() });
        await page.goto(url);
        expect(await row(page, who).count() === 1, 'removed on No');
        expect(await member(P, who), 'the API lost them');
      });
      await step(`${tag}: … Yes removes them ("Member removed."), and the invitation ghbridge sent goes from fakehub`, async () => {
        await page.goto(url);
        await confirmStep(page, js, { text: new RegExp(`Remove ${who}`), click: () => page.getByRole('button', { name: `Remove ${who}`, exact: true }).click() });
        await page.waitForURL(/done=removed$/);
        await page.getByText('Member removed.').waitFor();
        expect(await row(page, who).count() === 0, 'still listed');
        await until('the invitation gone from fakehub', async () => !(await invitations()).includes(who), 20000, page);
      });
      await step(`${tag}: a transfer to yourself or to someone who is not a member is refused at its field, what was typed kept`, async () => {
        const q = transferProjects[i];
        await page.goto(`${GHB}/projects/${q}/members`);
        const f = page.getByLabel('Member who has signed in');
        await f.fill(O);
        await confirmStep(page, js, { text: /Transfer Transfer me/, click: () => page.getByRole('button', { name: 'Transfer ownership', exact: true }).click() });
        await page.locator('#transfer-error').waitFor();
        expect((await page.locator('#transfer-error').innerText()).includes('You own this project already'), `to yourself: ${await page.locator('#transfer-error').innerText()}`);
        expect((await member(q, O)).role === 'owner', 'a transfer to yourself changed your role');
        await f.fill(`nobody${S}`);
        await confirmStep(page, js, { text: /Transfer Transfer me/, click: () => page.getByRole('button', { name: 'Transfer ownership', exact: true }).click() });
        await page.locator('#transfer-error', { hasText: /no such member/i }).waitFor();
        expect(/no such member/i.test(await page.locator('#transfer-error').innerText()), 'not in words');
        expect(await f.getAttribute('aria-invalid') === 'true', 'no aria-invalid');
        expect(await f.getAttribute('aria-describedby') === 'transfer-error', 'no aria-describedby');
        expect(await f.inputValue() === `nobody${S}`, 'what was typed is gone');
        if (js) expect(await focused(page) === 'transfer-member', `focus is on ${await focused(page)}`);
      });
      await step(`${tag}: transferring ownership asks first; No keeps it; Yes makes ${T} the owner and says so`, async () => {
        const q = transferProjects[i];
        const mu = `${GHB}/projects/${q}/members`;
        await page.goto(mu);
        const go = async () => {
          await page.getByLabel('Member who has signed in').fill(T);
          await page.getByRole('button', { name: 'Transfer ownership', exact: true }).click();
        };
        await confirmStep(page, js, { cancel: true, text: new RegExp(`Transfer Transfer me ${i}`), click: go });
        expect((await member(q, T)).role === 'developer', 'transferred on No');
        await page.goto(mu);
        await confirmStep(page, js, { text: new RegExp(`Transfer Transfer me ${i}`), click: go });
        await page.waitForURL(/done=transferred$/);
        await page.getByText(/Ownership transferred/).first().waitFor();
        expect((await member(q, T)).role === 'owner', `${T} is not the owner`);
        expect((await member(q, O)).role === 'maintainer', `${O} is not a maintainer`);
        await page.goto(mu);
        expect((await page.locator('#my-role').innerText()) === 'maintainer', 'my role is not maintainer');
        expect(await page.getByLabel('GitHub login').count() === 0, 'a maintainer still sees the invite form');
        await fits(page, 'members after the transfer');
      });

      const vctx = await browser.newContext({ viewport: size, javaScriptEnabled: js, bypassCSP: true });
      const vp = await vctx.newPage();
      await signIn(vp, V);
      await step(`${tag}: a viewer sees the tab read-only: the members and roles, no invite form, no role selects, no Remove`, async () => {
        await vp.goto(url);
        expect((await vp.locator('#my-role').innerText()) === 'viewer', 'role is not viewer');
        expect(await row(vp, O).count() === 1 && /owner/.test(await row(vp, O).innerText()), 'the owner is not listed with its role');
        expect(await vp.getByLabel('GitHub login').count() === 0, 'an invite form');
        expect(await vp.getByRole('combobox').count() === 0, 'role selects');
        expect(await vp.getByRole('button', { name: /^Remove / }).count() === 0, 'Remove buttons');
        expect(await vp.getByRole('button', { name: 'Transfer ownership', exact: true }).count() === 0, 'a transfer form');
        await fits(vp, 'members as a viewer');
        if (js) await axeClean(vp, 'members as a viewer');
      });
      await vctx.close();
      const dctx = await browser.newContext({ viewport: size, javaScriptEnabled: js });
      const dp = await dctx.newPage();
      await signIn(dp, D);
      await step(`${tag}: a developer has no role selects, invite form or Remove, and a hand-made role POST gets a 403 page in words; nothing changes`, async () => {
        await dp.goto(url);
        expect((await dp.locator('#my-role').innerText()) === 'developer', 'role is not developer');
        expect(await dp.getByRole('combobox').count() === 0, 'role selects');
        expect(await dp.getByLabel('GitHub login').count() === 0, 'an invite form');
        expect(await dp.getByRole('button', { name: /^Remove / }).count() === 0, 'Remove buttons');
        await fits(dp, 'members as a developer');
        const html = await (await dp.request.get(`${GHB}/account`)).text();
        const csrf = (html.match(/name="csrf" value="([^"]+)"/) || [])[1];
        const r = await dp.request.post(`${url}/role`, { form: { csrf, member: D, role: 'owner' }, headers: { Origin: GHB }, maxRedirects: 0 });
        expect(r.status() === 403, `status ${r.status()}`);
        const body = await r.text();
        expect(body.includes('Your role on this project is developer; this needs owner or above.'), 'the 403 page is not in words');
        await valid(body, '403 page');
        expect((await member(P, D)).role === 'developer', 'the role changed');
      });
      await dctx.close();
      await ctx.close();
    }
    await step('the tab with rows in every state seen above (invited, active, GitHub lookup refused, skipped viewer) passes html-validate and axe-core at 360 px', async () => {
      const h = await (await setup.request.get(`${GHB}/projects/${P}/members`)).text();
      await valid(h, 'members, every row state');
      const axeCtx = await browser.newContext({ viewport: sizes[1], bypassCSP: true });
      const ap = await axeCtx.newPage();
      await ap.setContent(h.replace('<head>', `<head><base href="${GHB}/">`));
      await axeClean(ap, 'members, every row state');
      await fits(ap, 'members, every row state');
      await axeCtx.close();
    });
    for (const u of Object.values(people)) await u.ctx.close();
    await setupCtx.close();
  }
} catch (e) {
  notOk('members run stopped', e && e.message ? e.message : e);
} finally {
  await browser.close();
}
finish();
