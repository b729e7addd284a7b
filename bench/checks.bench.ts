/**
 * Post-checks on an answer: a 10 kB answer (prose with a few addresses, ticket ids and numbers in
 * it) against 20 patterns — the three built-ins and 17 custom ones — applied whole, as a run's end
 * is settled. Target: under 1 ms p99. Beside it, the built-ins alone, and a 10 kB stream through
 * the hold-back window in 40-character deltas.
 */
import { AgentChecksSchema, CheckSet, StreamGuard } from '../src/checks/index.ts';
import { figures, report, sample } from './stats.ts';

const PARAGRAPH =
  'The refund for order 88213 went out on Tuesday; write to billing@example.org if it has not arrived. ' +
  'Ticket ACME-204511 tracks the follow-up, and the reference number is 4000 1234 5678 9010 (not a card). ';
let answer = '';
while (answer.length < 10_000) answer += PARAGRAPH;
answer = answer.slice(0, 10_000);

const custom = [
  'ACME-[0-9]{6}',
  'INV-[0-9]{4}-[0-9]{5}',
  '\\bproject (?:falcon|heron|osprey)\\b',
  '\\b[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}\\b',
  '\\b\\d{3}-\\d{2}-\\d{4}\\b',
  'confidential',
  'internal only',
  '\\bpassword\\s*[:=]',
  '\\b(?:10|192\\.168)\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\b',
  '\\bsalary\\b',
  '\\bmerger\\b',
  '\\bdo not share\\b',
  '\\+\\d{1,3} \\d{3} \\d{3} \\d{4}',
  'ssh-rsa [A-Za-z0-9+/]{40}',
  '\\bacquisition of [A-Z][a-z]+\\b',
  '\\bcodename [a-z]+\\b',
  '\\bDRAFT\\b',
];
const rules = [
  { name: 'keys', match: 'secrets', action: 'block' },
  { name: 'cards', match: 'card_numbers', action: 'block' },
  { name: 'mail', match: 'emails', action: 'redact' },
  ...custom.map((pattern, i) => ({
    name: `custom-${i}`,
    match: 'pattern',
    pattern,
    flags: 'i',
    action: 'redact',
  })),
];
const twenty = new CheckSet(AgentChecksSchema.parse({ rules }));
const builtins = new CheckSet(AgentChecksSchema.parse({ rules: rules.slice(0, 3) }));
if (rules.length !== 20) throw new Error('20 patterns');

const rows = [
  figures(
    '10 kB answer, 20 patterns (3 built-in, 17 custom)',
    await sample(3000, () => twenty.output!.apply(answer)),
  ),
  figures('10 kB answer, the 3 built-ins', await sample(3000, () => builtins.output!.apply(answer))),
  figures(
    '10 kB streamed in 40-char deltas, hold-back 256, 20 patterns',
    await sample(300, () => {
      const guard = new StreamGuard(twenty, false);
      guard.push({ type: 'text-start', id: 't' });
      for (let i = 0; i < answer.length; i += 40)
        guard.push({ type: 'text-delta', id: 't', delta: answer.slice(i, i + 40) });
      guard.push({ type: 'text-end', id: 't' });
    }),
  ),
];
report(rows);
const p99 = rows[0]!.p99Us;
console.log(
  `target: under 1,000 µs p99 for 10 kB with 20 patterns — ${p99 < 1000 ? 'met' : 'NOT met'} (${p99.toFixed(0)} µs)`,
);
