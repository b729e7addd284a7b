/**
 * The cell supervisor: starts an org's cell on demand, hands it the org's data key, watches its
 * heartbeat, and restarts a dead or silent cell with exponential backoff. Every start, exit,
 * restart and health change goes to the org's audit log and to the health history. Each org has
 * its own timers and state, so one org's crash loop does not slow another's cell.
 */
import type { ChildProcess } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditTrail } from '../audit/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Store } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import { EgressProxy, type EgressRule } from './egress.ts';
import { cellFolder } from './folders.ts';
import { type HostUser, orgHostUser } from './host-users.ts';
import { orgCgroupProcs } from './limits.ts';
import { encode, type FromCell, frameReader, type RunFrame, type ToCell } from './protocol.ts';
import { CELL_NODE_FLAGS, type CellSpec, type SandboxProvider } from './sandbox.ts';
import { seccompSupported } from './seccomp.ts';

export type CellState = 'starting' | 'ready' | 'unhealthy' | 'backoff' | 'stopped';

export interface CellInfo {
  orgId: string;
  state: CellState;
  pid: number | null;
  startedAt: string | null;
  readyAt: string | null;
  restarts: number;
  lastHeartbeatAt: string | null;
  rssBytes: number | null;
  sandbox: string;
}

export interface SupervisorOptions {
  store: Store;
  vault: Vault;
  audit: AuditTrail;
  provider: SandboxProvider;
  log: Logger;
  /** `$PADDOCK_HOME`: cells get `cells/<org>` under it; the rest of it stays hidden. */
  home: string;
  heartbeatMs?: number;
  /** No heartbeat for this long: the cell is hung; it is killed and restarted. */
  livenessMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** A cell that stayed ready this long has its backoff reset. */
  stableMs?: number;
  /** How long `ensure` waits for a cell before answering 503. */
  readyTimeoutMs?: number;
  /** The org's egress allowlist; when given, each cell gets its own egress proxy socket. */
  egressRules?: ((orgId: string, forCell: boolean) => Promise<EgressRule[]>) | undefined;
}

const CODE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CELL_MAIN = fileURLToPath(new URL('./cell-main.ts', import.meta.url));

export function egressSocketPath(home: string, orgId: string): string {
  return join(home, 'egress', `${orgId}.sock`);
}

/** What an org's cell is: its program, its private directory, what it may read, what stays hidden. */
export function cellSpec(orgId: string, home: string, program: string, args: string[] = []): CellSpec {
  const insideCode = !relative(CODE_DIR, home).startsWith('..');
  return {
    orgId,
    command: process.execPath,
    args: [...CELL_NODE_FLAGS, program, ...args],
    env: { NODE_ENV: 'production', PADDOCK_CELL_ORG: orgId },
    home,
    workDir: cellFolder(home, orgId),
    readOnly: [
      CODE_DIR,
      ...(relative(CODE_DIR, process.execPath).startsWith('..') ? [dirname(process.execPath)] : []),
    ],
    masked: insideCode ? [home] : [],
    cgroupProcs: orgCgroupProcs(orgId),
    seccomp: seccompSupported(),
  };
}

interface Cell {
  info: CellInfo;
  proc: ChildProcess | undefined;
  /** The org's host user, where the sandbox runs each org as its own. */
  user: HostUser | undefined;
  wanted: boolean;
  failures: number;
  /** Callers of `ensure` waiting for the cell to be ready. */
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>;
  timers: NodeJS.Timeout[];
  /** The cell's records so far: each waits for the one before, so history and audit keep their order. */
  recorded: Promise<void>;
}

/** Who runs agents in cells: told of their frames, and of a cell that went away with its runs. */
export interface RunHost {
  onFrame(orgId: string, frame: RunFrame): void;
  onCellGone(orgId: string, why: string): void;
}

export class CellSupervisor {
  readonly #o: Required<
    Omit<SupervisorOptions, 'store' | 'vault' | 'audit' | 'provider' | 'log' | 'home' | 'egressRules'>
  > &
    SupervisorOptions;
  readonly #cells = new Map<string, Cell>();
  readonly #proxies = new Map<string, EgressProxy>();
  readonly #proxyStarts = new Map<string, Promise<void>>();
  readonly #pongs = new Map<number, () => void>();
  #pingId = 0;
  #closed = false;
  #runs: RunHost | undefined;

  constructor(opts: SupervisorOptions) {
    this.#o = {
      // A cell loading the agent runtime on a busy machine may go a few seconds without a beat;
      // ten silent seconds is a hung cell.
      heartbeatMs: 1000,
      livenessMs: 10_000,
      backoffInitialMs: 100,
      backoffMaxMs: 30_000,
      stableMs: 30_000,
      readyTimeoutMs: 10_000,
      ...opts,
    };
  }

  get sandbox(): string {
    return this.#o.provider.name;
  }

  /** Who receives the cells' run frames (the runtime). */
  setRunHost(host: RunHost): void {
    this.#runs = host;
  }

  /** Sends a frame to the org's running cell; false if it has none. */
  send(orgId: string, frame: ToCell): boolean {
    const proc = this.#cells.get(orgId)?.proc;
    if (!proc?.stdin?.writable) return false;
    proc.stdin.write(encode(frame));
    return true;
  }

  list(): CellInfo[] {
    return [...this.#cells.values()].map((c) => ({ ...c.info }));
  }

  get(orgId: string): CellInfo | undefined {
    const c = this.#cells.get(orgId);
    return c ? { ...c.info } : undefined;
  }

  /** Makes sure the org's cell runs; resolves once it is ready. */
  async ensure(orgId: string): Promise<CellInfo> {
    if (this.#closed) throw new PaddockError(503, 'shutting_down', 'Paddock is shutting down.');
    let cell = this.#cells.get(orgId);
    if (!cell) {
      cell = {
        info: {
          orgId,
          state: 'stopped',
          pid: null,
          startedAt: null,
          readyAt: null,
          restarts: 0,
          lastHeartbeatAt: null,
          rssBytes: null,
          sandbox: this.#o.provider.name,
        },
        proc: undefined,
        user: undefined,
        wanted: true,
        failures: 0,
        waiters: [],
        timers: [],
        recorded: Promise.resolve(),
      };
      this.#cells.set(orgId, cell);
    }
    cell.wanted = true;
    if (cell.info.state === 'ready') return { ...cell.info };
    if (this.#o.provider.runsAsOrgUsers) cell.user ??= await orgHostUser(this.#o.store.db, orgId);
    await this.#egress(orgId, cell.user);
    if (!cell.proc && cell.info.state !== 'backoff') this.#start(cell);
    const c = cell;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        c.waiters = c.waiters.filter((w) => w.resolve !== resolve);
        reject(
          new PaddockError(
            503,
            'cell_unavailable',
            'The cell of this organization is not ready; it is being restarted.',
            { retryable: true },
          ),
        );
      }, this.#o.readyTimeoutMs);
      c.waiters.push({
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    return { ...cell.info };
  }

  /** A request to the org's cell and its answer (liveness from the caller's side); resolves with the round trip in ms. */
  async ping(orgId: string, timeoutMs = 1000): Promise<number> {
    const cell = this.#cells.get(orgId);
    const proc = cell?.proc;
    if (!cell || !proc || cell.info.state !== 'ready') {
      throw new PaddockError(503, 'cell_unavailable', 'The cell of this organization is not ready.', {
        retryable: true,
      });
    }
    const id = ++this.#pingId;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pongs.delete(id);
        reject(
          new PaddockError(504, 'cell_timeout', `The cell did not answer within ${timeoutMs} ms.`, {
            retryable: true,
          }),
        );
      }, timeoutMs);
      this.#pongs.set(id, () => {
        clearTimeout(timer);
        resolve(performance.now() - started);
      });
      proc.stdin?.write(encode({ v: 1, type: 'ping', org: orgId, id }));
    });
  }

  /** Stops the org's cell and keeps it stopped until `ensure` or `restart`. */
  async stop(orgId: string, reason = 'stopped by an admin'): Promise<void> {
    const cell = this.#cells.get(orgId);
    if (!cell) return;
    cell.wanted = false;
    this.#clearTimers(cell);
    for (const w of cell.waiters.splice(0))
      w.reject(new PaddockError(409, 'cell_stopped', `The cell was stopped: ${reason}.`));
    await this.#kill(cell, reason);
    await this.#setState(cell, 'stopped', { reason });
  }

  async restart(orgId: string, reason = 'restarted by an admin'): Promise<CellInfo> {
    await this.stop(orgId, reason);
    const cell = this.#cells.get(orgId);
    if (cell) cell.failures = 0;
    return this.ensure(orgId);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#cells.keys()].map((id) => this.stop(id, 'Paddock is shutting down')));
    await Promise.allSettled(this.#proxyStarts.values());
    await Promise.all([...this.#proxies.values()].map((p) => p.close()));
    this.#proxies.clear();
    this.#proxyStarts.clear();
  }

  #clearTimers(cell: Cell): void {
    for (const t of cell.timers) clearTimeout(t);
    cell.timers = [];
  }

  #spec(cell: Cell): CellSpec {
    const orgId = cell.info.orgId;
    const spec = { ...cellSpec(orgId, this.#o.home, CELL_MAIN), user: cell.user };
    return this.#proxies.has(orgId) ? { ...spec, egressSocket: egressSocketPath(this.#o.home, orgId) } : spec;
  }

  /**
   * The socket of the org's egress proxy for the control plane's own traffic on the org's
   * behalf (remote MCP servers), started if needed. It is a second proxy, never mounted into
   * the cell: the hosts of the org's remote connections are open to the gateway, not to code
   * running in the cell (which would reach them around the grants).
   */
  async egressSocket(orgId: string): Promise<string | null> {
    const key = `${orgId}:control`;
    await this.#egress(orgId, undefined, key, `${egressSocketPath(this.#o.home, orgId)}.control`, false);
    return this.#proxies.has(key) ? `${egressSocketPath(this.#o.home, orgId)}.control` : null;
  }

  /** An org's egress proxy (the cell's, given to its user; or the control plane's), started once and kept. */
  async #egress(
    orgId: string,
    owner: HostUser | undefined,
    key = orgId,
    socketPath = egressSocketPath(this.#o.home, orgId),
    forCell = true,
  ): Promise<void> {
    const rules = this.#o.egressRules;
    if (!rules || this.#proxies.has(key)) return;
    // Runs that start at once for one org share one start: a second proxy would be left listening.
    let starting = this.#proxyStarts.get(key);
    if (!starting) {
      const proxy = new EgressProxy({
        orgId,
        socketPath,
        rules: () => rules(orgId, forCell),
        owner,
        audit: this.#o.audit,
        log: this.#o.log,
      });
      starting = proxy.start().then(
        () => {
          this.#proxies.set(key, proxy);
        },
        (err: unknown) => {
          this.#proxyStarts.delete(key);
          throw err;
        },
      );
      this.#proxyStarts.set(key, starting);
    }
    await starting;
  }

  #start(cell: Cell): void {
    const orgId = cell.info.orgId;
    cell.info.state = 'starting';
    cell.info.startedAt = new Date().toISOString();
    cell.info.readyAt = null;
    let proc: ChildProcess;
    try {
      proc = this.#o.provider.spawn(this.#spec(cell));
    } catch (err) {
      // Refused before anything ran (an unsafe folder, say): said to whoever asked, and recorded.
      void this.#setState(cell, 'stopped', { reason: (err as Error).message });
      throw err;
    }
    cell.proc = proc;
    cell.info.pid = proc.pid ?? null;
    void this.#setState(cell, 'starting', { pid: proc.pid, sandbox: this.#o.provider.name });
    proc.stderr?.on('data', (d) =>
      this.#o.log.warn({ orgId, cell: String(d).slice(0, 2000) }, 'cell stderr'),
    );
    proc.stdin?.on('error', () => undefined);

    let lastBeat = Date.now();
    const fail = (why: string) => {
      this.#o.log.error({ orgId, why }, 'cell broke the protocol; killing it');
      proc.kill('SIGKILL');
    };
    proc.stdout?.on(
      'data',
      frameReader((raw) => {
        const f = raw as FromCell;
        // The channel belongs to one org: a frame for any other is a violation.
        if (f.org !== orgId) return fail(`a frame for org ${String(f.org)}`);
        lastBeat = Date.now();
        cell.info.lastHeartbeatAt = new Date(lastBeat).toISOString();
        if (f.type === 'ready') {
          cell.info.readyAt = new Date().toISOString();
          void this.#setState(cell, 'ready', {
            pid: cell.info.pid,
            pidInCell: f.pid,
            ms: Date.now() - Date.parse(cell.info.startedAt!),
          });
          for (const w of cell.waiters.splice(0)) w.resolve();
          const stable = setTimeout(() => {
            cell.failures = 0;
          }, this.#o.stableMs);
          stable.unref();
          cell.timers.push(stable);
        } else if (f.type === 'pong') {
          const done = this.#pongs.get(f.id);
          this.#pongs.delete(f.id);
          done?.();
        } else if (f.type === 'heartbeat') {
          cell.info.rssBytes = f.rss;
          if (cell.info.state === 'unhealthy')
            void this.#setState(cell, 'ready', { reason: 'heartbeat resumed' });
        } else if (f.type === 'run.event' || f.type === 'run.end' || f.type === 'mcp') {
          this.#runs?.onFrame(orgId, f);
        }
      }, fail),
    );

    const liveness = setInterval(
      () => {
        if (cell.proc !== proc) return clearInterval(liveness);
        if (Date.now() - lastBeat <= this.#o.livenessMs) return;
        // Judge only after reading what waits in the pipe: when this process was the one that
        // stalled, the cell's heartbeats are there unread, and the cell is not to blame.
        setImmediate(() => {
          const silent = Date.now() - lastBeat;
          if (cell.proc !== proc || silent <= this.#o.livenessMs) return;
          void this.#setState(cell, 'unhealthy', { reason: `no heartbeat for ${silent} ms` });
          proc.kill('SIGKILL'); // the exit handler restarts it
        });
      },
      Math.max(50, Math.floor(this.#o.heartbeatMs / 2)),
    );
    liveness.unref();

    proc.once('exit', (code, signal) => {
      clearInterval(liveness);
      if (cell.proc === proc) cell.proc = undefined;
      cell.info.pid = null;
      // Its runs went with it: whoever runs them ends them (restarts do not bring them back).
      this.#runs?.onCellGone(orgId, signal ? `the cell was killed (${signal})` : `the cell exited (${code})`);
      // An exit asked for by stop() is recorded there, with its reason.
      if (!cell.wanted || this.#closed) return;
      void this.#setState(cell, 'stopped', { exit: code, signal }, 'cell.exited');
      this.#scheduleRestart(cell, signal ? `killed (${signal})` : `exited (${code})`);
    });
    proc.once('error', (err) => this.#o.log.error({ err, orgId }, 'cell could not start'));

    void this.#o.vault.dataKeyFor(this.#o.store.db, orgId).then(
      (key) => {
        const hello: ToCell = {
          v: 1,
          type: 'hello',
          org: orgId,
          dataKey: key.toString('base64'),
          heartbeatMs: this.#o.heartbeatMs,
        };
        proc.stdin?.write(encode(hello));
      },
      (err) => {
        this.#o.log.error({ err, orgId }, 'no data key for the cell');
        proc.kill('SIGKILL');
      },
    );
  }

  #scheduleRestart(cell: Cell, why: string): void {
    const delay = Math.min(this.#o.backoffMaxMs, this.#o.backoffInitialMs * 2 ** cell.failures);
    cell.failures += 1;
    cell.info.restarts += 1;
    cell.info.state = 'backoff';
    // The operator's log says so too (the audit log is the org's): a loop shows as a run of these.
    this.#o.log.warn(
      { orgId: cell.info.orgId, why, restarts: cell.info.restarts, delayMs: delay },
      'cell went away; restarting it',
    );
    void this.#setState(cell, 'backoff', { delayMs: delay, restarts: cell.info.restarts }, 'cell.restarting');
    const t = setTimeout(() => {
      cell.timers = cell.timers.filter((x) => x !== t);
      if (!cell.wanted || this.#closed || cell.proc) return;
      try {
        this.#start(cell);
      } catch (err) {
        this.#o.log.error({ err, orgId: cell.info.orgId }, 'cell could not restart');
      }
    }, delay);
    t.unref();
    cell.timers.push(t);
  }

  async #kill(cell: Cell, reason: string): Promise<void> {
    const proc = cell.proc;
    if (!proc) return;
    cell.proc = undefined;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.stdin?.write(encode({ v: 1, type: 'shutdown', org: cell.info.orgId }));
    const hard = setTimeout(() => proc.kill('SIGKILL'), 1000);
    await exited;
    clearTimeout(hard);
    this.#o.log.info({ orgId: cell.info.orgId, reason }, 'cell stopped');
  }

  async #setState(
    cell: Cell,
    state: CellState,
    detail: Record<string, unknown>,
    action?: string,
  ): Promise<void> {
    const from = cell.info.state;
    cell.info.state = state === 'stopped' && cell.info.state === 'backoff' ? 'backoff' : state;
    const orgId = cell.info.orgId;
    // An exit and its restart are recorded a moment apart: written concurrently, a database may
    // keep them the other way round (the history would read "backoff, stopped").
    const before = cell.recorded;
    let done!: () => void;
    cell.recorded = new Promise<void>((r) => (done = r));
    await before;
    try {
      await this.#o.store.db
        .insertInto('cell_events')
        .values({ org_id: orgId, time: new Date().toISOString(), state, detail: JSON.stringify(detail) })
        .execute();
      await this.#o.audit.append({
        orgId,
        actor: { type: 'system', id: 'cell-supervisor' },
        action:
          action ??
          (state === 'starting'
            ? 'cell.started'
            : state === 'stopped'
              ? 'cell.stopped'
              : 'cell.health.changed'),
        target: { type: 'cell', id: orgId },
        outcome: state === 'unhealthy' ? 'failure' : 'success',
        details: { from, to: state, ...detail },
      });
    } catch (err) {
      if (!this.#closed) this.#o.log.error({ err, orgId }, 'cell event not recorded');
    } finally {
      done();
    }
  }
}
