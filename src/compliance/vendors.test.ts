/**
 * The vendor register is derived from use, so it cannot miss a vendor: a provider the agents
 * call with no register row shows as unreviewed and fails the control until assessed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ComplianceOrg, complianceOrg, logEvent, makeConnection } from '../testing/compliance.ts';
import { STORE_KINDS } from '../testing/stores.ts';
import { stdioVendor } from './index.ts';

test('an stdio MCP server is named by its package (npm, PyPI, image) or, failing that, its command', () => {
  assert.deepEqual(stdioVendor('npx', ['-y', '@modelcontextprotocol/server-github@2025.1.0']), {
    kind: 'mcp_package',
    name: 'npm:@modelcontextprotocol/server-github',
  });
  assert.deepEqual(stdioVendor('/usr/bin/uvx', ['mcp-server-fetch==0.6']), {
    kind: 'mcp_package',
    name: 'pypi:mcp-server-fetch',
  });
  assert.deepEqual(stdioVendor('docker', ['run', '-i', '--rm', 'ghcr.io/acme/mcp:1']), {
    kind: 'mcp_package',
    name: 'docker:ghcr.io/acme/mcp:1',
  });
  assert.deepEqual(
    stdioVendor('node', ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio']),
    {
      kind: 'mcp_package',
      name: 'npm:@modelcontextprotocol/server-everything',
    },
  );
  assert.deepEqual(
    stdioVendor('python3', ['/srv/tools/inventory.py', '--token', 'sk-abcdefghijklmnopqrstu']),
    {
      kind: 'mcp_command',
      name: 'python3 inventory.py',
    },
  );
});

for (const kind of STORE_KINDS) {
  describe(`vendor register [${kind}]`, () => {
    let o: ComplianceOrg;
    before(async () => {
      o = await complianceOrg(kind);
    });
    after(async () => o?.t.cleanup());

    const vendorControl = async () =>
      (await o.as('owner', 'post', '/compliance/collect', 201)).results.find(
        (r: any) => r.controlId === 'PAD-VEND-01',
      );

    test('a model call to a provider with no register row shows up as unreviewed and fails the control; assessing every vendor in use clears it', async () => {
      await o.as('owner', 'post', '/secrets', 201, {
        name: 'openai',
        kind: 'model_key',
        provider: 'openai',
        value: 'sk-test-000000000000000000000',
      });
      await makeConnection(o, 'orders', []);
      const agent = { type: 'agent' as const, id: 'agt_elsewhere' };
      await logEvent(o, agent, 'model.called', { type: 'model', id: 'anthropic/claude-sonnet-4' });
      await logEvent(o, agent, 'model.called', { type: 'model', id: 'anthropic/claude-sonnet-4' });
      await logEvent(o, agent, 'model.called', { type: 'model', id: 'anthropic/claude-haiku-4' });

      // The page's register takes model calls from the latest collection, not from the log.
      const before = await o.as('auditor', 'get', '/compliance/vendors', 200);
      assert.equal(before.callsAsOf, null);
      assert.equal(
        before.vendors.find((x: any) => x.name === 'anthropic'),
        undefined,
      );
      const failing = await vendorControl();
      const { vendors, callsAsOf } = await o.as('auditor', 'get', '/compliance/vendors', 200);
      assert.ok(callsAsOf.treeSize > 0, 'the calls are as of the collection’s checkpoint');
      const v = (name: string) => vendors.find((x: any) => x.name === name);
      assert.deepEqual(
        vendors.map((x: any) => [x.kind, x.name, x.status]),
        [
          ['mcp_package', 'npm:@acme/orders-mcp', 'unreviewed'],
          ['model_provider', 'anthropic', 'unreviewed'],
          ['model_provider', 'openai', 'unreviewed'],
        ],
      );
      assert.deepEqual(v('anthropic').sources, ['model calls']);
      assert.deepEqual(v('anthropic').calls, {
        total: 3,
        byModel: { 'claude-sonnet-4': 2, 'claude-haiku-4': 1 },
      });
      assert.match(v('openai').sources[0], /^model key sec_/);
      assert.equal(failing.status, 'fail');
      assert.equal(
        failing.reason,
        '3 vendors in use never reviewed: npm:@acme/orders-mcp, anthropic, openai.',
      );

      // Owners and admins assess; auditors and members cannot.
      const body = (kind: string, name: string) => ({
        kind,
        name,
        dataHandling: 'Prompts and outputs; no training on our data; 30-day retention.',
        soc2ReportDate: '2026-06-30',
        reviewedAt: new Date().toISOString().slice(0, 10),
        nextReviewAt: '2099-01-01',
      });
      await o.as('auditor', 'put', '/compliance/vendors', 403, body('model_provider', 'anthropic'));
      await o.as('member', 'put', '/compliance/vendors', 403, body('model_provider', 'anthropic'));
      await o.as('admin', 'put', '/compliance/vendors', 200, body('model_provider', 'anthropic'));
      await o.as('admin', 'put', '/compliance/vendors', 200, body('model_provider', 'openai'));
      const stillOne = await vendorControl();
      assert.equal(stillOne.reason, '1 vendor in use never reviewed: npm:@acme/orders-mcp.');
      await o.as('owner', 'put', '/compliance/vendors', 200, body('mcp_package', 'npm:@acme/orders-mcp'));
      const passing = await vendorControl();
      assert.equal(passing.status, 'pass', passing.reason);

      // A review past its date warns.
      await o.as('owner', 'put', '/compliance/vendors', 200, {
        ...body('model_provider', 'openai'),
        nextReviewAt: '2020-01-01',
      });
      const due = await vendorControl();
      assert.equal(due.status, 'warning');
      assert.equal(due.reason, '1 vendor review past due: openai.');
    });
  });
}
