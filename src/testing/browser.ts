/**
 * Real Chromium for the dashboard's end-to-end tests (tests only), started one way everywhere:
 * the system's Chromium, headless, with the flags the compliance package prints PDFs with.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../compliance/package/pdf.ts';

/** A headless Chromium, or a clear error saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
