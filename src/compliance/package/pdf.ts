/**
 * The report as PDF: the same HTML printed by Chromium's `page.pdf` (playwright-core), with no
 * network and no scripts. Without Chromium the package still builds and says the PDF was skipped
 * and why. Chromium stamps each PDF with the time and a random document id; those are set from
 * the content (same length, so the cross-reference offsets hold), so the same report gives the
 * same bytes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

export type PdfOutcome = { pdf: Buffer } | { skipped: string };

export async function renderPdf(html: string, executablePath = CHROMIUM): Promise<PdfOutcome> {
  if (!existsSync(executablePath))
    return {
      skipped: `Chromium was not found at ${executablePath} (install it, e.g. apt-get install chromium).`,
    };
  let browser: import('playwright-core').Browser | undefined;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const page = await context.newPage();
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    const pdf = await page.pdf({
      format: 'A4',
      printBackground: true,
      margin: { top: '16mm', bottom: '16mm', left: '14mm', right: '14mm' },
    });
    return { pdf: fixedStamps(pdf) };
  } catch (err) {
    return { skipped: `Chromium could not print the report: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    await browser?.close().catch(() => undefined);
  }
}

/**
 * Replaces the PDF's creation and modification dates (ISO 32000-1 §7.9.4 date strings) with a
 * fixed date of the same length, and its document id (§14.4, the trailer's /ID) with a digest of
 * the rest, keeping every byte offset.
 */
export function fixedStamps(pdf: Buffer): Buffer {
  let text = pdf.toString('latin1');
  text = text.replace(/\/(CreationDate|ModDate) ?\(D:([^)]*)\)/g, (m, _k, d: string) =>
    m.replace(d, "20000101000000+00'00'".padEnd(d.length, ' ').slice(0, d.length)),
  );
  const digest = createHash('sha256')
    .update(text.replace(/\/ID\s*\[[^\]]*\]/g, ''))
    .digest('hex');
  text = text.replace(/\/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]/g, (m, a: string, b: string) =>
    m
      .replace(a, digest.slice(0, a.length).padEnd(a.length, '0'))
      .replace(b, digest.slice(0, b.length).padEnd(b.length, '0')),
  );
  return Buffer.from(text, 'latin1');
}
