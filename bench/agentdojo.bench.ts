/**
 * AgentDojo's four suites replayed at the gate's decision (src/testing/agentdojo/replay.ts): per
 * suite, utility (user-task calls allowed under the grants suggested from them), attacker calls
 * denied, and the pairs where any attacker call got through, each with the arguments that would
 * have stopped it. Baseline in the same run: the same grants on tool names alone. Then the time of
 * one decision under each, interleaved. Ground-truth calls, not a model's behaviour.
 */
import { PolicyEngine } from '../src/policy/engine.ts';
import { type PairReplay, replaySuite, type SuiteReplay } from '../src/testing/agentdojo/replay.ts';
import { attackCalls, loadSuites } from '../src/testing/agentdojo/suites.ts';
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
