/**
 * `fetch` through an org's egress proxy: every connection is a CONNECT tunnel over the proxy's
 * Unix socket (TLS on top for https), so a remote MCP server is reached only if the org's
 * allowlist admits its host and port, and each refusal is audited by the proxy.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

const TUNNEL_TIMEOUT_MS = 10_000;

/** Opens a tunnel to host:port through the proxy; rejects with the proxy's own refusal text. */
function tunnel(socketPath: string, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect(socketPath);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      sock.off('data', onData);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      if (status === '200') {
        const rest = Buffer.from(head.slice(end + 4), 'latin1');
        if (rest.length) sock.unshift(rest);
        sock.setTimeout(0);
        resolve(sock);
      } else {
        sock.destroy();
        const body = head.slice(end + 4).trim();
        reject(new Error(body || `the egress proxy answered ${status ?? 'nothing'}`));
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    // A proxy (or upstream) that never answers does not hold the call forever.
    sock.setTimeout(TUNNEL_TIMEOUT_MS, () =>
      sock.destroy(new Error('the egress proxy did not answer in time')),
    );
    sock.once('close', () => reject(new Error('the egress proxy closed the connection')));
    sock.once('connect', () => {
      const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      sock.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    });
  });
}

export function proxiedFetch(socketPath: string): typeof fetch {
  const agent = new Agent({
    connect: (opts, callback) => {
      const host = opts.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      tunnel(socketPath, host, port).then(
        (sock) => {
          if (opts.protocol !== 'https:') return callback(null, sock);
          const servername = opts.servername || (isIP(host) ? undefined : host);
          const tls = tlsConnect({
            socket: sock,
            ALPNProtocols: ['http/1.1'],
            ...(servername ? { servername } : {}),
          });
          // One answer to undici: connected, or the first error before that.
          let answered = false;
          tls.once('secureConnect', () => {
            answered = true;
            callback(null, tls);
          });
          tls.once('error', (err) => {
            if (!answered) callback(err, null);
            answered = true;
          });
        },
        (err: Error) => callback(err, null),
      );
    },
  });
  // undici's own fetch, so that the dispatcher is the same undici as the Agent.
  const viaProxy = (input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher: agent } as never);
  return viaProxy as unknown as typeof fetch;
}
