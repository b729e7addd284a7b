/**
 * How a session's POST is answered on the wire: the transport streams every answer (SSE), and
 * most hold nothing but the response; those go out as plain JSON, which clients take as well.
 */
const decoder = new TextDecoder();
const immediately = () => new Promise<'later'>((r) => setImmediate(() => r('later')));

/**
 * A POST's SSE answer that turns out to hold nothing but the response (most calls: no progress,
 * no request of the server's before the result) goes out as plain JSON, which the client takes
 * as well and which costs less to send; one that streams anything first stays a stream, each
 * event sent as it comes. The transport closes a request's stream in the same turn as it writes
 * the response, so "the stream ended right after one message" tells the two apart.
 */
export async function plainWhenAlone(res: Response): Promise<Response> {
  if (res.headers.get('content-type') !== 'text/event-stream') return res;
  const reader = res.body!.getReader();
  const seen: Uint8Array[] = [];
  let message: string | undefined;
  for (;;) {
    const next = reader.read();
    const r = message === undefined ? await next : await Promise.race([next, immediately()]);
    if (r === 'later' || (!r.done && message !== undefined)) {
      if (r !== 'later') seen.push(r.value);
      return streamed(res, seen, reader, r === 'later' ? next : undefined);
    }
    if (r.done) {
      if (message === undefined) return streamed(res, seen, reader);
      const headers = new Headers(res.headers);
      headers.set('content-type', 'application/json');
      return new Response(message, { status: 200, headers });
    }
    seen.push(r.value);
    const text = decoder.decode(r.value);
    const data = text.indexOf('\ndata: ');
    // A priming event (an id, empty data) only gives the client a cursor: the message comes next.
    if (data >= 0 && text.length > data + 9) message = text.slice(data + 7, text.lastIndexOf('\n\n'));
  }
}

/** The SSE answer as it was meant: what was read already, then the rest as it comes. */
function streamed(
  res: Response,
  seen: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
  pending?: Promise<ReadableStreamReadResult<Uint8Array>>,
): Response {
  let waiting = pending;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of seen) c.enqueue(chunk);
    },
    async pull(c) {
      const r = await (waiting ?? reader.read());
      waiting = undefined;
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, res);
}
