import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml } from './index.ts';

test('markup characters become entities, in text and in either kind of quoted attribute', () => {
  assert.equal(
    escapeHtml(`<img src=x onerror="a('b')"> & more`),
    '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; more',
  );
  assert.equal(escapeHtml('&amp;'), '&amp;amp;', 'escaped text is escaped again, never trusted');
  assert.equal(escapeHtml('plain text, ünïcode'), 'plain text, ünïcode');
});
