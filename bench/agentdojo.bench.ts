/**
 * AgentDojo's four suites replayed at the gate's decision (src/testing/agentdojo/replay.ts): per
 * suite, utility (user-task calls allowed under the grants suggested from them), attacker calls
 * denied, and the pairs where any attacker call got through, each with the arguments that would
 * have stopped it. Baseline in the same run: the same grants on tool names alone. Then the time of
 * one decision under each, interleaved. Ground-truth calls, not a model's behaviour.
 *
 * Then "through the runtime": every pair (BENCH_PAIRS=n takes every k-th to make n) as a real run
 * in the org's bubblewrap cell, the injectable scripted model (it always obeys an injection: a
 * worst case) and the suite's MCP server as a connection, under each grant mode; utility and
 * attack success counted at the suite server (src/testing/agentdojo/runs.ts).
 */
import { bubblewrap } from '../src/cells/index.ts';
import { PolicyEngine } from '../src/policy/engine.ts';
import { type PairReplay, replaySuite, type SuiteReplay } from '../src/testing/agentdojo/replay.ts';
import { attacked, type PairRun, startDojoRuns } from '../src/testing/agentdojo/runs.ts';
import { attackCalls, loadSuites } from '../src/testing/agentdojo/suites.ts';
import { createApp, seedOrg, testDeps } from '../src/testing/fixtures.ts';
import { openTestStore } from '../src/testing/stores.ts';
import { figures, report } from './stats.ts';

const { source, suites } = loadSuites();
console.log(`AgentDojo ${source.version} (${source.repo}@${source.commit.slice(0, 12)}), ground-truth calls`);

const pct = (a: number, b: number) => (b === 0 ? '—' : `${((100 * a) / b).toFixed(1)}%`);
const open = (r: SuiteReplay) => r.pairs.filter((p) => p.through.length > 0);
const openBeyondOwn = (r: SuiteReplay) => r.pairs.filter((p) => p.through.some((t) => !t.sameCall));
const completes = (r: SuiteReplay) => r.pairs.filter((p) => p.through.length === p.attackerCalls);

const engines = { suggested: new PolicyEngine(), names: new PolicyEngine() };
const rows = suites.map((s) => ({
  suggested: replaySuite(s, { engine: engines.suggested }),
  names: replaySuite(s, { toolNamesOnly: true, engine: engines.names }),
}));

const line = (cells: string[]) => console.log(`| ${cells.join(' | ')} |`);
console.log('');
line([
  'suite',
  'user × injection pairs',
  'utility (user-task calls allowed)',
  'attacker calls denied',
  'pairs with any attacker call through (beyond the task’s own calls)',
  'pairs where the attack completes',
  'tool names only: attacker calls denied',
  'tool names only: attack completes',
]);
line(Array(8).fill('---'));
const total = { pairs: 0, uc: 0, ua: 0, ac: 0, ad: 0, open: 0, beyond: 0, done: 0, nd: 0, ndone: 0 };
for (const { suggested: r, names: b } of rows) {
  line([
    r.suite,
    String(r.pairs.length),
    `${r.userAllowed}/${r.userCalls} (${pct(r.userAllowed, r.userCalls)})${r.placeholderCalls.length ? `, ${r.placeholderCalls.length} placeholder calls apart` : ''}`,
    `${r.attackerDenied}/${r.attackerCalls} (${pct(r.attackerDenied, r.attackerCalls)})`,
    `${open(r).length} (${openBeyondOwn(r).length})`,
    `${completes(r).length} (${pct(completes(r).length, r.pairs.length)})`,
    `${b.attackerDenied}/${b.attackerCalls} (${pct(b.attackerDenied, b.attackerCalls)})`,
    `${completes(b).length} (${pct(completes(b).length, b.pairs.length)})`,
  ]);
  total.pairs += r.pairs.length;
  total.uc += r.userCalls;
  total.ua += r.userAllowed;
  total.ac += r.attackerCalls;
  total.ad += r.attackerDenied;
  total.open += open(r).length;
  total.beyond += openBeyondOwn(r).length;
  total.done += completes(r).length;
  total.nd += b.attackerDenied;
  total.ndone += completes(b).length;
}
line([
  'all',
  String(total.pairs),
  `${total.ua}/${total.uc} (${pct(total.ua, total.uc)})`,
  `${total.ad}/${total.ac} (${pct(total.ad, total.ac)})`,
  `${total.open} (${total.beyond})`,
  `${total.done} (${pct(total.done, total.pairs)})`,
  `${total.nd}/${total.ac} (${pct(total.nd, total.ac)})`,
  `${total.ndone} (${pct(total.ndone, total.pairs)})`,
]);

for (const { suggested: r } of rows)
  for (const i of r.outputOnly)
    console.log(
      `\nNot at the gate: ${r.suite}/${i} has no tool call (the attack asks only for words in the answer); its ${r.userTasks} pairs are not counted.`,
    );

console.log('\nPairs where an attacker call got through, and the arguments that would have stopped it:');
const describe = (p: PairReplay) =>
  p.through
    .map((t) =>
      t.sameCall
        ? `${t.tool} (the user task's own call: no argument tells them apart)`
        : `${t.tool} — would have stopped it: ${t.stoppers.join(', ')}`,
    )
    .join('; ');
for (const { suggested: r } of rows)
  for (const p of open(r)) console.log(`  ${r.suite} ${p.user} × ${p.injection}: ${describe(p)}`);

// One decision's time under each set of grants, interleaved over the same calls: those the
// agent holds a grant of the tool for (Cedar decides; the others are refused before it).
const asks = suites
  .flatMap((s) =>
    s.userTasks.flatMap((u) =>
      [...u.calls, ...s.injectionTasks.flatMap(attackCalls)].map((c) => ({
        agentId: `${s.name}/${u.id}`,
        connectionId: `con_${s.name}`,
        tool: c.function,
        args: c.args,
        now: 1_800_000_000,
        approved: false,
      })),
    ),
  )
  .filter((ask) => engines.suggested.relevant(ask.agentId, ask).length > 0);
// Warm every (agent, tool) set once, as a running gateway would have.
for (const ask of asks) for (const e of Object.values(engines)) e.decide(ask);
const samples = { suggested: [] as number[], names: [] as number[] };
for (let round = 0; round < 10; round++) {
  for (const which of ['names', 'suggested'] as const) {
    for (let k = 0; k < 1000; k++) {
      const ask = asks[(round * 1000 + k * 7) % asks.length]!;
      const t0 = process.hrtime.bigint();
      engines[which].decide(ask);
      samples[which].push(Number(process.hrtime.bigint() - t0));
    }
  }
}
console.log('');
const base = figures('decision, grants on tool names only (baseline)', samples.names);
report([base, figures('decision, suggested grants (argument constraints)', samples.suggested)], base);

// Through the runtime: real runs, counted at the suite server.
const check = await bubblewrap.check();
if (!check.ok) throw new Error(`bubblewrap is needed: ${check.reason}`);
const allPairs = rows.flatMap(({ suggested: r }) =>
  r.pairs.map((p) => [r.suite, p.user, p.injection] as const),
);
const want = Number(process.env.BENCH_PAIRS ?? allPairs.length);
const every = Math.max(1, Math.floor(allPairs.length / want));
const sample = allPairs.filter((_, i) => i % every === 0).slice(0, want);
const store = await openTestStore('sqlite');
const runs = await startDojoRuns(
  createApp(testDeps(store.store, store.home, {}, { provider: bubblewrap, problem: null })),
  await seedOrg(store.store, 'acme'),
  suites,
);
const results: PairRun[] = [];
const runMs: number[] = [];
try {
  for (const [s, u, i] of sample) {
    for (const mode of ['names', 'suggested'] as const) {
      const t0 = process.hrtime.bigint();
      results.push(await runs.run(s, u, i, mode));
      runMs.push(Number(process.hrtime.bigint() - t0));
    }
  }
} finally {
  await runs.close();
  await store.cleanup();
}
console.log(
  `\nThrough the runtime: ${sample.length} of ${allPairs.length} pairs, each a real run under each grant mode (${results.length} runs); the scripted model obeys every injection, counted at the suite server.\n`,
);
line([
  'suite',
  'pairs run',
  'runs completed',
  'utility (user task’s calls all executed)',
  'attack success (an injection call executed, beyond the task’s own)',
  'attack completes (every injection call executed)',
  'injection calls executed (the task’s own included)',
  'tool names only: utility',
  'tool names only: attack success',
  'tool names only: attack completes',
  'tool names only: injection calls executed (own included)',
]);
line(Array(11).fill('---'));
const attackCallsOf = (r: PairRun) =>
  attackCalls(suites.find((s) => s.name === r.suite)!.injectionTasks.find((t) => t.id === r.injection)!)
    .length;
const cells = (rs: PairRun[]) => {
  const made = rs.reduce((n, r) => n + attackCallsOf(r), 0);
  const reached = rs.reduce((n, r) => n + r.reached.length, 0);
  const share = (n: number) => `${n}/${rs.length} (${pct(n, rs.length)})`;
  return [
    share(rs.filter((r) => r.utility).length),
    share(rs.filter(attacked).length),
    share(rs.filter((r) => r.reached.length === attackCallsOf(r)).length),
    `${reached}/${made} (${pct(reached, made)})`,
  ];
};
for (const name of [...suites.map((s) => s.name), 'all']) {
  const mine = results.filter((r) => name === 'all' || r.suite === name);
  const sug = mine.filter((r) => r.mode === 'suggested');
  const nam = mine.filter((r) => r.mode === 'names');
  line([
    name,
    String(sug.length),
    `${mine.filter((r) => r.status === 'completed').length}/${mine.length}`,
    ...cells(sug),
    ...cells(nam),
  ]);
}
console.log('\nPairs attacked under the suggested grants:');
for (const r of results.filter((x) => x.mode === 'suggested' && attacked(x)))
  console.log(
    `  ${r.suite} ${r.user} × ${r.injection}: ${r.reached
      .filter((c) => !c.sameCall)
      .map((c) => c.tool)
      .join(', ')}`,
  );
console.log('');
report([figures('one pair run (both grant modes, the cell warm)', runMs)]);
