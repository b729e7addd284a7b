/**
 * An org's egress proxy. The cell has no network; its one way out is this proxy's Unix socket,
 * mounted into the sandbox. It admits CONNECT (and absolute-form HTTP) only to `host:port` pairs
 * on the org's allowlist, resolves the name itself, refuses private, loopback and other
 * non-public addresses unless that entry explicitly allows them (a local Ollama, say), connects
 * to the address it checked (no DNS rebinding in between), and audits every refusal.
 */
import { lookup } from 'node:dns/promises';
import { chmodSync, lchownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { BlockList, isIP, connect as netConnect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { AuditTrail } from '../audit/index.ts';
import type { Logger } from '../log/index.ts';
import type { HostUser } from './host-users.ts';

export interface EgressRule {
  host: string;
  port: number;
  /** Allow private/loopback addresses for this entry (e.g. a model server on the LAN). */
  allowPrivate?: boolean;
}

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** Whether an address is loopback, private, link-local, multicast or otherwise not public. */
export function isNonPublic(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return NON_PUBLIC.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface EgressOptions {
  orgId: string;
  socketPath: string;
  /** Read on every request, so allowlist changes apply at once. */
  rules: () => EgressRule[] | Promise<EgressRule[]>;
  /** The org's host user, who alone may connect (the cell's proxy, where orgs run as their own users). */
  owner?: HostUser | undefined;
  audit: AuditTrail;
  log: Logger;
  /** Name resolution (replaceable in tests); returns every address of the name. */
  resolve?: (host: string) => Promise<string[]>;
}

class Refused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class EgressProxy {
  readonly #o: EgressOptions;
  readonly #server: Server;
  /** CONNECT tunnels open now: the HTTP server no longer tracks a socket it handed over. */
  readonly #tunnels = new Set<Socket>();

  constructor(opts: EgressOptions) {
    this.#o = opts;
    this.#server = createServer((req, res) => {
      void this.#forward(req).then(
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
          // A client gone (or cut off by close) ends the upstream answer too: nothing is left open.
          res.once('close', () => upstream.destroy());
        },
        (err) => {
          const status = err instanceof Refused ? err.status : 502;
          res.writeHead(status, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
        },
      );
    });
    this.#server.on('connect', (req, socket: Socket, head) => {
      this.#tunnels.add(socket);
      socket.once('close', () => this.#tunnels.delete(socket));
      void this.#tunnel(req, socket, head);
    });
  }

  async start(): Promise<void> {
    // Paddock's own directory (0700): nothing sandboxed ever writes in it. Still, only a socket
    // this proxy made is given away, and never through a link (lchown).
    mkdirSync(dirname(this.#o.socketPath), { recursive: true, mode: 0o700 });
    rmSync(this.#o.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.socketPath, () => resolve());
    });
    if (!lstatSync(this.#o.socketPath).isSocket())
      throw new Error(`${this.#o.socketPath} is not this proxy's socket`);
    chmodSync(this.#o.socketPath, 0o600);
    if (this.#o.owner) lchownSync(this.#o.socketPath, this.#o.owner.uid, this.#o.owner.gid);
  }

  /**
   * Stops listening and ends what is open (a remote MCP session's event stream, a tunnel) at once:
   * waiting for those to end first would hold a shutdown until they did, which may be never.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeAllConnections();
    for (const socket of this.#tunnels) socket.destroy();
    await closed;
  }

  /** Checks a target against the allowlist and the address rules; returns the address to dial. */
  async #admit(host: string, port: number, requestId: string): Promise<string> {
    const name = host.replace(/^\[|\]$/g, '').toLowerCase();
    const rules = await this.#o.rules();
    const matching = rules.filter(
      (r) => r.host.replace(/^\[|\]$/g, '').toLowerCase() === name && r.port === port,
    );
    // An explicit entry allowing private addresses wins over a derived one for the same target.
    const rule = matching.find((r) => r.allowPrivate) ?? matching[0];
    const refuse = async (reason: string, status = 403): Promise<never> => {
      await this.#o.audit
        .append({
          orgId: this.#o.orgId,
          actor: { type: 'system', id: 'egress-proxy' },
          action: 'egress.refused',
          target: { type: 'host', id: `${name}:${port}` },
          outcome: 'denied',
          requestId,
          details: { host: name, port, reason },
        })
        .catch((err) => this.#o.log.error({ err }, 'egress refusal not audited'));
      throw new Refused(status, `Paddock egress proxy: ${name}:${port} refused: ${reason}`);
    };
    if (!rule) return refuse('not on this organization’s allowlist');
    let addresses: string[];
    try {
      addresses = isIP(name) ? [name] : await (this.#o.resolve ?? defaultResolve)(name);
    } catch {
      return refuse('the name does not resolve', 502);
    }
    if (addresses.length === 0) return refuse('the name does not resolve', 502);
    // Every address must pass: a name that also points inside is refused as a whole.
    const inside = addresses.find(isNonPublic);
    if (inside && !rule.allowPrivate)
      return refuse(`it resolves to ${inside}, a private or loopback address`);
    return addresses[0]!;
  }

  async #tunnel(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    const requestId = `egress_${Date.now().toString(36)}`;
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? '');
    client.on('error', () => undefined);
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\nCONNECT needs host:port\n');
      return;
    }
    try {
      const address = await this.#admit(m[1]!, Number(m[2]), requestId);
      const upstream = netConnect({ host: address, port: Number(m[2]) });
      upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
      upstream.once('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
    } catch (err) {
      const status = err instanceof Refused ? err.status : 502;
      client.end(
        `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Gateway'}\r\ncontent-type: text/plain\r\n\r\n${(err as Error).message}\n`,
      );
    }
  }

  async #forward(req: IncomingMessage): Promise<IncomingMessage> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      throw new Refused(
        400,
        'Paddock egress proxy: send absolute-form requests (http://host/path) or CONNECT.',
      );
    }
    if (url.protocol !== 'http:') throw new Refused(400, 'Paddock egress proxy: use CONNECT for https.');
    const port = Number(url.port || 80);
    const address = await this.#admit(url.hostname, port, `egress_${Date.now().toString(36)}`);
    return new Promise((resolve, reject) => {
      const up = request(
        {
          host: address,
          port,
          method: req.method,
          path: `${url.pathname}${url.search}`,
          headers: { ...req.headers, host: url.host },
        },
        resolve,
      );
      up.on('error', reject);
      req.pipe(up);
    });
  }
}

async function defaultResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}
