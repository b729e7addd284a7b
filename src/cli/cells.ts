/** `paddock cells`: an org's cell as the running server sees it; admins stop and restart it. */
import type { Command } from './commands.ts';
import { need, parse } from './options.ts';
import { UsageError } from './output.ts';
import { remoteApi } from './remote.ts';

function age(iso: string | null): string {
  if (!iso) return '-';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

interface CellView {
  state: string;
  sandbox: string;
  pid: number | null;
  readyAt: string | null;
  restarts: number;
  rssBytes: number | null;
}

interface CellBody {
  cell?: CellView | null;
  sandbox?: string | null;
  problem?: string | null;
}

export const cells: Command = {
  summary: "Show an organization's cell, or start, stop or restart it (talks to the running server)",
  usage: `paddock cells [status|start|stop|restart] --org <slug> [--url URL] [--token-file FILE]

  Uses the running server's API: --url (default PADDOCK_PUBLIC_URL or http://127.0.0.1:7070) and
  an API token from --token-file or PADDOCK_TOKEN. status needs cells.read (owner, admin,
  auditor); start, stop and restart need an owner or admin.`,
  async run(args) {
    const [first, ...rest] = args;
    const sub = first && !first.startsWith('-') ? first : 'status';
    const v = parse(first && !first.startsWith('-') ? rest : args, {
      org: { type: 'string' },
      url: { type: 'string' },
      'token-file': { type: 'string' },
    });
    if (!['status', 'start', 'stop', 'restart'].includes(sub))
      throw new UsageError(`Unknown cells command "${sub}". Use status, start, stop or restart.`);
    const org = need(v, 'org');
    const call = remoteApi(v, org);
    if (sub !== 'status') await call('POST', `/cell/${sub}`);
    const { cell, sandbox, problem } = (await call('GET', '/cell')) as CellBody;
    if (problem) process.stdout.write(`cells unavailable: ${problem}\n`);
    if (!cell) {
      process.stdout.write(`${org}: no cell running (sandbox: ${sandbox ?? 'none available'})\n`);
      return;
    }
    const mem = cell.rssBytes ? `${(cell.rssBytes / 2 ** 20).toFixed(1)} MB` : '-';
    process.stdout.write(
      `ORG\tSTATE\tSANDBOX\tPID\tUPTIME\tRESTARTS\tMEMORY\n${org}\t${cell.state}\t${cell.sandbox}\t${cell.pid ?? '-'}\t${age(cell.readyAt)}\t${cell.restarts}\t${mem}\n`,
    );
  },
};
