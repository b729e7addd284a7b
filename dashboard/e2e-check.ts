/**
 * What the end-to-end suites check on every page they visit: an automated accessibility check
 * (axe-core, in the page, light and dark) with no serious or critical violation, and a screenshot
 * of the page in each colour scheme, saved to dashboard/screenshots/ (git-ignored) for a person to
 * look at. `checkPage` leaves the page as it found it (light, scrolled to the top).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SCREENSHOT_DIR = process.env.E2E_SCREENSHOT_DIR ?? join(ROOT, 'dashboard/screenshots');
const AXE = readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Serious and critical axe violations on the page as it is now, in words. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol, so the page's CSP (no inline scripts) is not bypassed for it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<unknown> } })
      .axe;
    const r = (await axe.run(document, { resultTypes: ['violations'] })) as { violations: Violation[] };
    return r.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.impact} ${v.id} (${v.help}): ${v.nodes
          .slice(0, 5)
          .map((n) => `${JSON.stringify(n.target)} ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`)
          .join(' | ')}`,
    );
}

/**
 * Checks the page in light and dark (axe: no serious or critical violation) and saves
 * `<name>-light.png` and `<name>-dark.png`. Fails naming each violation.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const base = name.replace(/\.png$/, '');
  const problems: string[] = [];
  try {
    for (const scheme of ['light', 'dark'] as const) {
      // Reduced motion: no colour is caught halfway through a transition.
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      for (const p of await accessibilityProblems(page)) problems.push(`${scheme}: ${p}`);
      // From the top: a full-page shot of a scrolled page draws the sticky top bar mid-page.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${base}-${scheme}.png`), fullPage: true });
    }
  } finally {
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
  }
  assert.deepEqual(problems, [], `accessibility of ${base} (${page.url()})`);
}
