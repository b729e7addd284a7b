/** `paddock agents`: list an org's agents, and the kill switch (one agent, or all of them). */
import type { Command } from './commands.ts';
import { need, parse } from './options.ts';
import { UsageError } from './output.ts';
import { remoteApi } from './remote.ts';

interface AgentView {
  id: string;
  name: string;
  state: string;
  scope: string;
}

export const agents: Command = {
  summary:
    "List an organization's agents, or stop and resume them (the kill switch; talks to the running server)",
  usage: `paddock agents [list|stop|resume] --org <slug> [--agent <id or name> | --all] [--url URL] [--token-file FILE]

  stop --agent X     no tool call of agent X runs from the acknowledgment on; its calls in
                     flight end (needs a person who may change the agent)
  stop --all         the org-wide kill switch: every agent of the org (owner or admin)
  resume             undoes either; an agent stopped on its own stays stopped after resume --all
  Uses the running server's API: --url (default PADDOCK_PUBLIC_URL or http://127.0.0.1:7070) and
  an API token from --token-file or PADDOCK_TOKEN.`,
  async run(args) {
    const [first, ...rest] = args;
    const sub = first && !first.startsWith('-') ? first : 'list';
    const v = parse(first && !first.startsWith('-') ? rest : args, {
      org: { type: 'string' },
      agent: { type: 'string' },
      all: { type: 'boolean' },
      url: { type: 'string' },
      'token-file': { type: 'string' },
    });
    if (!['list', 'stop', 'resume'].includes(sub))
      throw new UsageError(`Unknown agents command "${sub}". Use list, stop or resume.`);
    const org = need(v, 'org');
    const call = remoteApi(v, org);
    const list = async () => ((await call('GET', '/agents')).agents ?? []) as AgentView[];
    if (sub !== 'list') {
      if (v.all === true) {
        const o = await call('POST', sub === 'stop' ? '/stop' : '/resume');
        const still = (o.agentsStillStopped ?? []) as Array<{ id: string; name: string }>;
        process.stdout.write(
          o.agentsStoppedAt
            ? `${org}: every agent stopped at ${o.agentsStoppedAt}\n`
            : still.length === 0
              ? `${org}: agents may run again\n`
              : `${org}: agents may run again, except ${still.length} stopped one by one, which stay stopped ` +
                `(resume each with --agent): ${still.map((a) => a.name).join(', ')}\n`,
        );
      } else {
        const wanted = v.agent as string | undefined;
        if (!wanted) throw new UsageError('Name the agent with --agent <id or name>, or use --all.');
        const found = (await list()).filter((a) => a.id === wanted || a.name === wanted);
        if (found.length !== 1)
          throw new UsageError(
            found.length ? `Several agents are named "${wanted}"; use its id.` : `No agent "${wanted}".`,
          );
        const a = (await call('POST', `/agents/${found[0]!.id}/${sub}`)) as unknown as AgentView;
        process.stdout.write(`${a.name} (${a.id}): ${a.state}\n`);
      }
      return;
    }
    const [rows, o] = await Promise.all([list(), call('GET', '')]);
    // The org-wide kill switch stops every agent whatever its own state says.
    const stopped = typeof o.agentsStoppedAt === 'string' ? o.agentsStoppedAt : null;
    const state = (a: AgentView) => (stopped && a.state === 'active' ? 'stopped (all agents)' : a.state);
    process.stdout.write(
      `ID\tNAME\tSTATE\tSCOPE\n${rows.map((a) => `${a.id}\t${a.name}\t${state(a)}\t${a.scope}\n`).join('')}` +
        (stopped
          ? `Every agent of ${org} is stopped (since ${stopped}). To resume them: npm run -s paddock -- agents resume --all --org ${org}\n`
          : ''),
    );
  },
};
