/** Option parsing shared by the commands: strict flags, required values, where the store is. */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { loadConfig } from '../config/index.ts';
import { UsageError } from './output.ts';

const COMMON = {
  home: { type: 'string' },
  'database-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parse(args: string[], options: ParseArgsOptionsConfig) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: false, strict: true })
      .values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}. See --help.`);
  }
}

export function need(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required. See --help.`);
  return v;
}

export function storeOptions(v: Record<string, unknown>) {
  const config = loadConfig({
    home: v.home as string | undefined,
    databaseUrl: v['database-url'] as string | undefined,
  });
  return { config, opts: { home: config.home, databaseUrl: config.databaseUrl } };
}
