/** The call step alone, on a stand-in session: what runs, what is refused, what the record and the caller get. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OpenSession } from '../../connections/index.ts';
import { PaddockError } from '../../errors/index.ts';
import { StoppedError } from '../refusals.ts';
import type { GateRequest } from '../request.ts';
import { answerOf, invoke } from './invoke.ts';

const call: GateRequest = {
  caller: { orgId: 'org_1', agentId: 'agt_a', onBehalfOf: null, requestId: 'req_1' },
  connectionId: 'con_1',
  tool: 'echo',
  args: { message: 'hi' },
  approval: 'pause',
};

/** A session whose tool answers with `answer` (or throws it), scrubbing "s3cret". */
function session(answer: (signal: AbortSignal) => Promise<unknown>) {
  const sent: unknown[] = [];
  const s = {
    client: {
      callTool: async (req: unknown, _schema: unknown, opts: { signal: AbortSignal }) => {
        sent.push(req);
        return answer(opts.signal);
      },
    },
    scrub: <T>(x: T) => JSON.parse(JSON.stringify(x).replaceAll('s3cret', '[REDACTED]')) as T,
  } as unknown as OpenSession;
  return { open: async () => s, sent };
}

test('a call runs on its session; the answer is scrubbed', async () => {
  const { open, sent } = session(async () => ({ content: [{ type: 'text', text: 'echo s3cret' }] }));
  const outcome = await invoke(call, new AbortController().signal, open, 1000);
  assert.deepEqual(sent, [{ name: 'echo', arguments: { message: 'hi' } }]);
  assert.equal(outcome.error, undefined);
  const answer = answerOf(outcome, new AbortController().signal, 'aud_7');
  assert.deepEqual(answer.content, [{ type: 'text', text: 'echo [REDACTED]' }]);
  assert.equal(answer.auditEntryId, 'aud_7');
  assert.equal(answer.isError, false);
});

test('a server built into Paddock is told whom the call is for; no other server is (above)', async () => {
  const { open, sent } = session(async () => ({ content: [] }));
  const builtin = async () => ({ ...(await open()), builtin: true as const });
  const forMallory: GateRequest = {
    ...call,
    caller: { ...call.caller, onBehalfOf: 'usr_mallory', runId: 'run_1' },
  };
  await invoke(forMallory, new AbortController().signal, builtin, 1000);
  assert.deepEqual(sent, [
    {
      name: 'echo',
      arguments: { message: 'hi' },
      _meta: { 'paddock/caller': { personId: 'usr_mallory', runId: 'run_1' } },
    },
  ]);
});

test('a call ended before it is sent starts no server and sends nothing', async () => {
  let opened = false;
  const signal = AbortSignal.abort(new StoppedError(false));
  const outcome = await invoke(
    call,
    signal,
    async () => {
      opened = true;
      return session(async () => ({})).open();
    },
    1000,
  );
  assert.equal(opened, false);
  assert.equal(outcome.error, 'stopped by the kill switch');
  assert.throws(
    () => answerOf(outcome, signal, 'aud_1'),
    (e: PaddockError) => e.code === 'agent_stopped',
  );
});

test("a server's error is scrubbed and answers tool_failed; Paddock's own refusal keeps its code", async () => {
  const failing = session(async () => {
    throw new Error('boom with s3cret');
  });
  const failed = await invoke(call, new AbortController().signal, failing.open, 1000);
  assert.equal(failed.error, 'boom with [REDACTED]');
  assert.throws(
    () => answerOf(failed, new AbortController().signal, 'aud_1'),
    (e: PaddockError) => e.code === 'tool_failed' && e.status === 502,
  );
  const refused = await invoke(
    call,
    new AbortController().signal,
    async () => {
      throw new PaddockError(403, 'secret_not_allowed', 'not for this agent');
    },
    1000,
  );
  assert.throws(
    () => answerOf(refused, new AbortController().signal, 'aud_1'),
    (e: PaddockError) => e.code === 'secret_not_allowed',
  );
});
