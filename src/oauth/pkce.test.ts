import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isS256Challenge, verifierMatches } from './pkce.ts';

// RFC 7636 Appendix B: the specification's own example.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

test('the verifier of RFC 7636 Appendix B matches its challenge, and nothing else does', () => {
  assert.ok(isS256Challenge(CHALLENGE));
  assert.ok(verifierMatches(VERIFIER, CHALLENGE));
  assert.ok(!verifierMatches(`${VERIFIER.slice(0, -1)}l`, CHALLENGE));
  // `plain` would compare the verifier itself: refused.
  assert.ok(!verifierMatches(CHALLENGE, CHALLENGE));
});

test('verifiers and challenges of the wrong length or alphabet are refused', () => {
  assert.ok(!verifierMatches('a'.repeat(42), CHALLENGE), 'shorter than 43');
  assert.ok(!verifierMatches('a'.repeat(129), CHALLENGE), 'longer than 128');
  assert.ok(!verifierMatches(`${VERIFIER.slice(0, -1)}+`, CHALLENGE), 'outside the unreserved characters');
  assert.ok(!isS256Challenge(`${CHALLENGE}=`), 'padded');
  assert.ok(!isS256Challenge(CHALLENGE.slice(1)), 'short');
  assert.ok(!isS256Challenge(`${CHALLENGE.slice(1)}/`), 'base64, not base64url');
});
