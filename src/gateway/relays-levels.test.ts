/**
 * The level an agent's shared servers are told: the most verbose its clients chose, by org and
 * agent — its stored sessions' (every replica's) and those chosen here — so that no client's
 * choice silences another's, and an event naming the agent under another org changes nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LoggingLevel, SetLevelRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { relayHarness } from './relay-harness.ts';

/** org_1's agt_1 with one server that logs: the levels its stored sessions chose (`stored`), and what the server was told. */
async function loggers(stored: Record<string, LoggingLevel[]>) {
  const told: LoggingLevel[] = [];
  const { relays, server, client } = await relayHarness(
    {
      storedLevels: async (orgId, agentId) => stored[`${orgId}/${agentId}`] ?? [],
      clientsOf: async (agentId) => (agentId === 'agt_1' ? [{ connectionId: 'con_1', client }] : []),
    },
    { name: 'logger', capabilities: { logging: {} } },
  );
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    told.push(req.params.level);
    return {};
  });
  return { relays, client, stored, told };
}

test("the agent's server is told the most verbose level its clients chose, by org: a quieter choice or another org's word changes nothing", async () => {
  // The harness's session is org_1's agt_1; one stored session of it chose debug.
  const { relays, client, stored, told } = await loggers({ 'org_1/agt_1': ['debug'] });
  await relays.opened(client, 'org_1', 'agt_1');
  assert.deepEqual(told, ['debug'], 'opened: told what the stored session chose');
  assert.ok(relays.servesAgent('org_1', 'agt_1'));
  assert.equal(
    relays.servesAgent('org_2', 'agt_1'),
    false,
    'the same agent id under another org is not served here',
  );

  // A sessionless request chooses error: debug is still the most verbose, so nothing is told.
  await relays.levelChosen('org_1', 'agt_1', '', 'error');
  assert.deepEqual(told, ['debug']);

  // Word of a change naming the agent under another org (a forged bus event): org_1's level stands.
  await relays.levelsChanged('org_2', 'agt_1');
  assert.deepEqual(told, ['debug'], "another org's word tells the server nothing");

  // The stored session goes (or chooses otherwise): the choices left decide, in order.
  stored['org_1/agt_1'] = ['warning'];
  await Promise.all([relays.levelsChanged('org_1', 'agt_1'), relays.levelsChanged('org_1', 'agt_1')]);
  assert.deepEqual(told, ['debug', 'warning'], 'told once, the most verbose of warning and error');
});

test('a session that ends takes its level with it: the servers are told what the clients left want', async () => {
  const { relays, client, stored, told } = await loggers({ 'org_1/agt_1': ['debug', 'warning'] });
  await relays.opened(client, 'org_1', 'agt_1');
  assert.deepEqual(told, ['debug']);
  // The debug session's row goes (closed, idle): a recheck tells the server the quieter level.
  stored['org_1/agt_1'] = ['warning'];
  await relays.recheckLevels();
  assert.deepEqual(told, ['debug', 'warning']);
  // Nothing changed: nothing told. None left: the server keeps the last (MCP cannot unset one).
  await relays.recheckLevels();
  stored['org_1/agt_1'] = [];
  await relays.recheckLevels();
  assert.deepEqual(told, ['debug', 'warning']);
});
