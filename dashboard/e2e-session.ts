/**
 * Browser pages for the dashboard's end-to-end tests, made one way everywhere: each page's console
 * errors and uncaught errors collected (every suite asserts there were none), and the sign-in form
 * filled as a person fills it.
 */
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';

export interface Watch {
  /** Names the page in what it collects ("owner console error: …"). */
  who?: string;
  /** A console error that is the point of the test (a refusal the browser reports), not a problem. */
  expected?: (m: ConsoleMessage) => boolean;
  timeoutMs?: number;
}

/** A new page in `context` whose console errors and uncaught errors go into `problems`. */
export async function watchedPage(context: BrowserContext, problems: string[], w: Watch = {}): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(w.timeoutMs ?? 15_000);
  const who = w.who ? `${w.who} ` : '';
  page.on('console', (m) => {
    if (m.type() === 'error' && !w.expected?.(m))
      problems.push(`${who}console error: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`${who}page error: ${e.message}`));
  return page;
}

/** Signs `person` in on the sign-in page and waits for their organization's overview. */
export async function signIn(
  page: Page,
  baseUrl: string,
  person: { email: string; password: string },
  slug: string,
): Promise<void> {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`**/orgs/${slug}`);
}
