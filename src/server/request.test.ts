/**
 * Whose request it is, for rate limits and records: the socket's peer, or — only when that peer
 * is a proxy the operator named — the client its X-Forwarded-For says, read from the right so a
 * client cannot name itself someone else; and an IPv6 client counted by its /64, since anyone
 * holding one has 2^64 addresses to rotate through.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { loadConfig } from '../config/index.ts';
import { addressKey, clientAddress } from './request.ts';

/** What clientAddress says for a request from `peer` with these headers. */
async function addressOf(peer: string, headers: Record<string, string>, trusted: string[]) {
  const app = new Hono();
  app.get('/', (c) => c.text(clientAddress(c, trusted)));
  const res = await app.request('/', { headers }, { incoming: { socket: { remoteAddress: peer } } });
  return res.text();
}

describe('client address', () => {
  test('the socket peer, whatever X-Forwarded-For says, when no proxy is trusted', async () => {
    assert.equal(await addressOf('203.0.113.7', { 'x-forwarded-for': '198.51.100.1' }, []), '203.0.113.7');
  });

  test('behind a trusted proxy, the rightmost address the proxies did not add', async () => {
    const proxy = ['10.0.0.2'];
    assert.equal(await addressOf('10.0.0.2', { 'x-forwarded-for': '198.51.100.1' }, proxy), '198.51.100.1');
    // A client naming itself someone else first: its claim is left of what the proxy saw.
    assert.equal(
      await addressOf('10.0.0.2', { 'x-forwarded-for': '192.0.2.99, 198.51.100.1' }, proxy),
      '198.51.100.1',
    );
    // Two proxies in a row, both trusted.
    assert.equal(
      await addressOf('10.0.0.2', { 'x-forwarded-for': '198.51.100.1, 10.0.0.3' }, ['10.0.0.2', '10.0.0.3']),
      '198.51.100.1',
    );
    // Nothing usable from the proxy: its own address.
    assert.equal(await addressOf('10.0.0.2', {}, proxy), '10.0.0.2');
    assert.equal(await addressOf('10.0.0.2', { 'x-forwarded-for': 'not an address' }, proxy), '10.0.0.2');
    // An untrusted peer's header is ignored.
    assert.equal(await addressOf('203.0.113.7', { 'x-forwarded-for': '198.51.100.1' }, proxy), '203.0.113.7');
  });

  test('an IPv6 client counts by its /64; IPv4 (and IPv4-mapped IPv6) by its address', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('2001:db8::1'), addressKey('2001:0db8:0000:0000:9::'));
    assert.equal(addressKey('::ffff:198.51.100.1'), addressKey('198.51.100.1'));
    assert.notEqual(addressKey('198.51.100.1'), addressKey('198.51.100.2'));
    assert.equal(addressKey('local'), 'local');
  });

  test('PADDOCK_TRUSTED_PROXIES lists addresses; anything else is refused at start', () => {
    const c = loadConfig({ home: '/tmp/x' }, { PADDOCK_TRUSTED_PROXIES: '10.0.0.2, ::1' });
    assert.deepEqual(c.trustedProxies, ['10.0.0.2', '::1']);
    assert.deepEqual(loadConfig({ home: '/tmp/x' }, {}).trustedProxies, []);
    assert.throws(
      () => loadConfig({ home: '/tmp/x' }, { PADDOCK_TRUSTED_PROXIES: '10.0.0.0/8' }),
      /PADDOCK_TRUSTED_PROXIES/,
    );
  });
});
