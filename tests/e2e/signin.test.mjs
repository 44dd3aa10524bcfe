// signin.test.mjs: a person signs in with GitHub, sees their account, makes an API key, signs out.
import { launch, step, skip, finish, fakehubUp, signIn, expect, GHB } from './lib.mjs';

const browser = await launch();
const page = await browser.newPage();
const errors = [];
// Failed loads are recorded with their URL; avatars live on GitHub's image host, not ours.
page.on('response', r => { if (r.status() >= 400 && r.url().startsWith(GHB) && !r.url().includes('/no/such/page')) errors.push(`${r.status()} ${r.url()}`); });
page.on('console', m => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
try {
  await step('landing page renders with the stylesheet', async () => {
    const r = await page.goto(`${GHB}/`);
    expect(r.status() === 200, `status ${r.status()}`);
    expect((await page.title()) === 'ghbridge', 'title');
    const bg = await page.evaluate(() => getComputedStyle(document.querySelector('.site-header')).backgroundColor);
    expect(bg === 'rgb(36, 41, 47)', `header colour ${bg}: CSS not applied`);
  });
  await step('404 page is styled and names the request id', async () => {
    const r = await page.goto(`${GHB}/no/such/page`);
    expect(r.status() === 404, `status ${r.status()}`);
    expect(await page.locator('.error-page code').count() === 1, 'no request id');
  });
  if (!(await fakehubUp())) {
    skip('sign in through GitHub', 'fakehub is not running');
  } else {
    await step('sign in through GitHub lands signed in', async () => {
      await signIn(page, 'octocat');
      expect(await page.locator('.site-header .account').innerText() === 'octocat', 'header does not show octocat');
    });
    await step('account page shows the connection and sessions', async () => {
      await page.goto(`${GHB}/account`);
      await page.getByText('Connected through the').waitFor();
      await page.getByText('this browser').waitFor();
    });
    await step('create an API key: shown once with a copy button', async () => {
      await page.fill('#key-name', 'browser key');
      await page.check('input[name=scope][value="projects:read"]');
      await page.click('button:has-text("Create API key")');
      const key = await page.inputValue('#new-key');
      expect(/^ghb_[0-9a-f]{16}_[0-9a-f]{64}$/.test(key), `key ${key}`);
      const r = await page.request.get(`${GHB}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
      expect((await r.json()).auth === 'api_key', 'key does not authenticate');
      await page.goto(`${GHB}/account`);
      expect(await page.locator('#new-key').count() === 0, 'key shown twice');
      await page.getByRole('cell', { name: 'browser key', exact: true }).waitFor();
    });
    await step('sign out', async () => {
      await page.click('button:has-text("Sign out")');
      await page.waitForURL(`${GHB}/`);
      await page.getByRole('link', { name: 'Sign in with GitHub' }).first().waitFor();
    });
    await step('cancel on GitHub shows a friendly page with Try again', async () => {
      await page.goto(`${GHB}/login`);
      await page.click('#cancel');
      await page.getByRole('heading', { name: 'Sign-in cancelled' }).waitFor();
      await page.getByRole('link', { name: 'Try again' }).waitFor();
    });
  }
  await step('no console errors (CSP violations included)', async () => {
    expect(errors.length === 0, errors.join(' | '));
  });
} finally {
  await browser.close();
  finish();
}
