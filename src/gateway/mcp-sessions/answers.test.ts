/** A lone response goes out as JSON; an answer that streams anything first stays a stream, in order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainWhenAlone } from './answers.ts';

const encoder = new TextEncoder();
const event = (id: number, data: unknown) =>
  encoder.encode(`event: message\nid: ${id}\ndata: ${data === '' ? '' : JSON.stringify(data)}\n\n`);
const sse = (start: (c: ReadableStreamDefaultController<Uint8Array>) => void) =>
  new Response(new ReadableStream<Uint8Array>({ start }), {
    headers: { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' },
  });
const response = { result: { content: [{ type: 'text', text: 'a\n\nb' }] }, jsonrpc: '2.0', id: 7 };

test('a priming event and the response, then the end: plain JSON, headers kept', async () => {
  const res = await plainWhenAlone(
    sse((c) => {
      c.enqueue(event(1, ''));
      c.enqueue(event(2, response));
      c.close();
    }),
  );
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.headers.get('mcp-session-id'), 's1');
  assert.deepEqual(await res.json(), response);
});

test('a notification first: still a stream, every event in order, the later ones as they come', async () => {
  const progress = {
    method: 'notifications/progress',
    params: { progressToken: 1, progress: 1 },
    jsonrpc: '2.0',
  };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const res = await plainWhenAlone(
    sse((c) => {
      controller = c;
      c.enqueue(event(1, progress));
    }),
  );
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  setTimeout(() => {
    controller.enqueue(event(2, response));
    controller.close();
  }, 20);
  const text = await res.text();
  assert.ok(text.indexOf('notifications/progress') < text.indexOf('"id":7'), text);
});

test('a JSON answer or an error passes as it is', async () => {
  const json = new Response('{}', { headers: { 'content-type': 'application/json' } });
  assert.equal(await plainWhenAlone(json), json);
});
