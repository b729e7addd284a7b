import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRegistration, redirectUriProblem } from './clients.ts';

test('redirect URIs: https anywhere, http on loopback only, nothing that could send a code elsewhere', () => {
  for (const ok of [
    'https://claude.ai/api/mcp/auth_callback',
    'http://localhost:6274/oauth/callback',
    'http://127.0.0.1:33418/callback',
    'http://[::1]:8080/cb',
    'https://app.example/cb?tenant=1',
  ])
    assert.equal(redirectUriProblem(ok), null, ok);
  for (const bad of [
    'http://app.example/cb',
    'http://localhost.evil.example/cb',
    'http://127.0.0.2/cb',
    'javascript:alert(1)',
    'data:text/html,hi',
    'cursor://callback',
    'https://app.example/cb#x',
    'https://app.example/cb#',
    'https://u:p@app.example/cb',
    '/relative/cb',
    `https://app.example/${'a'.repeat(600)}`,
  ])
    assert.notEqual(redirectUriProblem(bad), null, bad);
});

test('a registration keeps only what Paddock offers, and names the client plainly', () => {
  const r = parseRegistration({
    client_name: '  Claude  ',
    redirect_uris: ['https://claude.ai/cb', 'https://claude.ai/cb'],
    logo_uri: 'https://evil.example/x.png',
    scope: 'everything',
  });
  assert.deepEqual(r, { name: 'Claude', redirectUris: ['https://claude.ai/cb'] });
  assert.equal(parseRegistration({ redirect_uris: ['https://a.example/cb'] }).name, 'MCP client');
  assert.throws(() => parseRegistration({ client_name: 'a\nb', redirect_uris: ['https://a.example/cb'] }), {
    code: 'invalid_client_metadata',
  });
  assert.throws(() => parseRegistration({ client_name: 7, redirect_uris: ['https://a.example/cb'] }), {
    code: 'invalid_client_metadata',
  });
  assert.throws(() => parseRegistration({ redirect_uris: [7] }), { code: 'invalid_redirect_uri' });
});
