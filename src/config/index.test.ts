/**
 * Settings that are one of a few words are refused when misspelt, with an error naming the setting
 * and the words it may be, rather than starting Paddock in a way nobody asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PaddockError } from '../errors/index.ts';
import { loadConfig } from './index.ts';

/** The error loading these settings gives (and fails the test when they load). */
function refusal(env: NodeJS.ProcessEnv): PaddockError {
  try {
    loadConfig({}, env);
  } catch (err) {
    assert.ok(PaddockError.isInstance(err), `a PaddockError, not ${String(err)}`);
    return err;
  }
  assert.fail(`loaded ${JSON.stringify(env)}`);
}

test('PADDOCK_LOG_LEVEL: each of pino’s levels is taken (any case, spaces trimmed); absent or empty is info', () => {
  for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    assert.equal(loadConfig({}, { PADDOCK_LOG_LEVEL: level }).logLevel, level);
  assert.equal(loadConfig({}, { PADDOCK_LOG_LEVEL: ' DEBUG ' }).logLevel, 'debug');
  assert.equal(loadConfig({}, {}).logLevel, 'info');
  assert.equal(loadConfig({}, { PADDOCK_LOG_LEVEL: '' }).logLevel, 'info');
});

test('PADDOCK_LOG_LEVEL: anything else is refused, naming the setting, the allowed levels and the value given', () => {
  for (const bad of ['verbos', 'warning', '30', 'info,debug', 'infox']) {
    const err = refusal({ PADDOCK_LOG_LEVEL: bad });
    assert.equal(err.code, 'invalid_log_level');
    assert.equal(err.status, 400);
    assert.equal(
      err.message,
      `PADDOCK_LOG_LEVEL is one of fatal, error, warn, info, debug, trace, silent, not "${bad}".`,
    );
  }
});

test('PADDOCK_LOG_FORMAT: json and pretty are taken (any case); absent or empty leaves it to the terminal', () => {
  assert.equal(loadConfig({}, { PADDOCK_LOG_FORMAT: 'json' }).logFormat, 'json');
  assert.equal(loadConfig({}, { PADDOCK_LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
  assert.equal(loadConfig({}, { PADDOCK_LOG_FORMAT: 'JSON' }).logFormat, 'json');
  assert.equal(loadConfig({}, {}).logFormat, undefined);
  assert.equal(loadConfig({}, { PADDOCK_LOG_FORMAT: '' }).logFormat, undefined);
});

test('PADDOCK_LOG_FORMAT: anything else is refused, naming the setting, the allowed formats and the value given', () => {
  for (const bad of ['xml', 'text', 'jsonl', 'pretty-print']) {
    const err = refusal({ PADDOCK_LOG_FORMAT: bad });
    assert.equal(err.code, 'invalid_log_format');
    assert.equal(err.message, `PADDOCK_LOG_FORMAT is one of json, pretty, not "${bad}".`);
  }
});

test('a value given in a refusal is shown redacted: a secret pasted into the wrong setting is not echoed', () => {
  const token = `pdk_${'s'.repeat(43)}`;
  const err = refusal({ PADDOCK_LOG_LEVEL: token });
  assert.equal(err.code, 'invalid_log_level');
  assert.ok(!err.message.includes(token), err.message);
});

test('PADDOCK_PUBLIC_URL: empty reads as unset (the listening address); anything but an http(s) address is refused', () => {
  assert.equal(loadConfig({}, { PADDOCK_PUBLIC_URL: '', PORT: '7171' }).publicUrl, 'http://127.0.0.1:7171');
  assert.equal(
    loadConfig({}, { PADDOCK_PUBLIC_URL: 'https://paddock.example.com/' }).publicUrl,
    'https://paddock.example.com',
  );
  for (const bad of ['paddock.example.com', 'ftp://paddock.example.com', ' ']) {
    const err = refusal({ PADDOCK_PUBLIC_URL: bad });
    assert.equal(err.code, 'invalid_public_url');
    assert.match(err.message, /PADDOCK_PUBLIC_URL must be the http\(s\) address/);
  }
});
