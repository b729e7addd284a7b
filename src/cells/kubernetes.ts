/**
 * Org cells on Kubernetes, for scale: one pod per org under gVisor, a NetworkPolicy that lets it
 * reach only its org's egress proxy, and nothing of the cluster's API. `renderCellManifests`
 * produces the objects as plain data (tested against the Kubernetes schemas);
 * `KubernetesCellProvider` checks a cluster and applies them with `@kubernetes/client-node`.
 * How the control plane and a pod talk, and what is not done yet: docs/cells-kubernetes.md.
 *
 * @example
 *   const m = renderCellManifests({ orgId: 'org_0123456789abcdef', image: 'registry.example/paddock@sha256:…' });
 *   // m.serviceAccount, m.networkPolicy, m.pod — apply in that order (or `provider.apply(orgId)`).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type {
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  V1LimitRange,
  V1Namespace,
  V1NetworkPolicy,
  V1Pod,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { PaddockError } from '../errors/index.ts';
import { CELL_NODE_FLAGS, type SandboxCheck } from './sandbox.ts';

/** Every object of a cell carries these; `paddock.dev/org` is what the NetworkPolicies select on. */
export const CELL_APP_LABEL = 'paddock-cell';
export const EGRESS_PROXY_APP_LABEL = 'paddock-egress-proxy';
export const ORG_LABEL = 'paddock.dev/org';
export const SPEC_HASH_ANNOTATION = 'paddock.dev/spec-hash';
/** The name the cell uses for its egress proxy (an /etc/hosts entry: the cell has no DNS). */
export const EGRESS_PROXY_HOST = 'egress.paddock.internal';
/** Where the pod-bound identity token and the control plane's CA appear inside the cell. */
export const CELL_IDENTITY_DIR = '/run/paddock/identity';
/** The distroless "nonroot" user; any non-zero id works, this one is conventional. */
export const CELL_UID = 65532;

/** Mirrors `cellSpec` in supervisor.ts (the test checks they agree). */
const CELL_PROGRAM = 'src/cells/cell-main.ts';

export interface KubernetesCellOptions {
  /** The image holding Node 24 and Paddock's code; pin it by digest. */
  image: string;
  /** One namespace for all cells (default `paddock-cells`). */
  namespace?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The RuntimeClass that runs the pod under gVisor (default `gvisor`, GKE Sandbox's name too). */
  runtimeClassName?: string;
  /** Paddock's code inside the image (default `/app`). */
  appDir?: string;
  /** The Node executable inside the image (default `node`, found on the image's PATH). */
  nodePath?: string;
  resources?: {
    cpuRequest?: string;
    cpuLimit?: string;
    /** Request and limit both: a cell is never overcommitted on memory (default 128Mi). */
    memory?: string;
    ephemeralStorageRequest?: string;
    ephemeralStorageLimit?: string;
    /** Size cap of the cell's writable /cell (default 64Mi) and /tmp (default 16Mi). */
    cellSize?: string;
    tmpSize?: string;
  };
  egressProxy?: {
    /** Where the org's proxy pods run (default: the cells' namespace). */
    namespace?: string;
    /** The proxy's TCP port (default 3128). */
    port?: number;
    /** The ClusterIP of the org's proxy Service, written to /etc/hosts as `egress.paddock.internal`. */
    serviceIP?: string;
  };
  identity?: {
    /** Audience of the pod-bound token the cell presents to the control plane (default `paddock-cell`). */
    audience?: string;
    /** Lifetime of that token; the kubelet renews it at 80% (default 600, the minimum). */
    expirationSeconds?: number;
    /** ConfigMap with `ca.crt`, the CA of the control plane's cell endpoint (default `paddock-cell-ca`). */
    caConfigMap?: string;
  };
}

export interface CellManifestOptions extends KubernetesCellOptions {
  orgId: string;
}

export interface CellManifests {
  /** The one name of the org's pod, NetworkPolicy and ServiceAccount. */
  name: string;
  namespace: string;
  serviceAccount: V1ServiceAccount;
  networkPolicy: V1NetworkPolicy;
  pod: V1Pod;
}

export interface NamespaceManifests {
  namespace: V1Namespace;
  /** Denies all traffic to and from every pod of the namespace that no other policy allows. */
  defaultDeny: V1NetworkPolicy;
  limitRange: V1LimitRange;
}

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

function assertOrgId(orgId: string): void {
  if (orgId.length > 63 || !LABEL_VALUE.test(orgId)) {
    throw new PaddockError(
      400,
      'invalid_org_id',
      `Org id ${JSON.stringify(orgId)} cannot be a Kubernetes label value (1-63 letters, digits, "-", "_", ".", starting and ending with a letter or digit).`,
    );
  }
}

function assertDnsLabel(what: string, value: string): void {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    throw new PaddockError(
      400,
      'invalid_kubernetes_name',
      `${what} ${JSON.stringify(value)} is not a DNS-1123 label.`,
    );
  }
}

/**
 * The DNS-1123 name of an org's objects: `cell-` and the org id made safe, then a digest of the
 * exact id, so two ids that differ only in case or in `_` against `-` never share a name.
 *
 * @example cellName('org_0123456789abcdef') // 'cell-org-0123456789abcdef-<10 hex>'
 */
export function cellName(orgId: string): string {
  assertOrgId(orgId);
  const digest = createHash('sha256').update(orgId).digest('hex').slice(0, 10);
  const safe = orgId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const stem = safe.slice(0, 63 - 'cell-'.length - 1 - digest.length).replace(/-+$/, '');
  return stem ? `cell-${stem}-${digest}` : `cell-${digest}`;
}

interface Resolved {
  namespace: string;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  runtimeClassName: string;
  appDir: string;
  nodePath: string;
  cpuRequest: string;
  cpuLimit: string;
  memory: string;
  ephemeralStorageRequest: string;
  ephemeralStorageLimit: string;
  cellSize: string;
  tmpSize: string;
  proxyNamespace: string;
  proxyPort: number;
  proxyIP: string | undefined;
  audience: string;
  expirationSeconds: number;
  caConfigMap: string;
}

function resolve(o: KubernetesCellOptions): Resolved {
  if (!o.image?.trim()) throw new PaddockError(400, 'image_required', 'The cell image is not set.');
  const namespace = o.namespace ?? 'paddock-cells';
  const r: Resolved = {
    namespace,
    image: o.image,
    imagePullPolicy: o.imagePullPolicy ?? 'IfNotPresent',
    runtimeClassName: o.runtimeClassName ?? 'gvisor',
    appDir: (o.appDir ?? '/app').replace(/\/+$/, ''),
    nodePath: o.nodePath ?? 'node',
    cpuRequest: o.resources?.cpuRequest ?? '100m',
    cpuLimit: o.resources?.cpuLimit ?? '500m',
    memory: o.resources?.memory ?? '128Mi',
    ephemeralStorageRequest: o.resources?.ephemeralStorageRequest ?? '64Mi',
    ephemeralStorageLimit: o.resources?.ephemeralStorageLimit ?? '128Mi',
    cellSize: o.resources?.cellSize ?? '64Mi',
    tmpSize: o.resources?.tmpSize ?? '16Mi',
    proxyNamespace: o.egressProxy?.namespace ?? namespace,
    proxyPort: o.egressProxy?.port ?? 3128,
    proxyIP: o.egressProxy?.serviceIP,
    audience: o.identity?.audience ?? 'paddock-cell',
    expirationSeconds: o.identity?.expirationSeconds ?? 600,
    caConfigMap: o.identity?.caConfigMap ?? 'paddock-cell-ca',
  };
  assertDnsLabel('Namespace', r.namespace);
  assertDnsLabel('Egress proxy namespace', r.proxyNamespace);
  assertDnsLabel('RuntimeClass', r.runtimeClassName);
  if (!Number.isInteger(r.proxyPort) || r.proxyPort < 1 || r.proxyPort > 65535) {
    throw new PaddockError(400, 'invalid_port', `Egress proxy port ${r.proxyPort} is not a TCP port.`);
  }
  if (r.proxyIP !== undefined && isIP(r.proxyIP) === 0) {
    throw new PaddockError(
      400,
      'invalid_ip',
      `Egress proxy Service IP ${JSON.stringify(r.proxyIP)} is not an IP.`,
    );
  }
  if (!Number.isInteger(r.expirationSeconds) || r.expirationSeconds < 600) {
    throw new PaddockError(
      400,
      'invalid_token_lifetime',
      'The identity token lifetime must be at least 600 s.',
    );
  }
  return r;
}

function labelsFor(orgId: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': CELL_APP_LABEL,
    'app.kubernetes.io/component': 'org-cell',
    'app.kubernetes.io/managed-by': 'paddock',
    [ORG_LABEL]: orgId,
  };
}

/**
 * The objects of one org's cell, in the order to apply them: its ServiceAccount (no API token,
 * no RBAC: it only names the pod's identity), its NetworkPolicy (before the pod, so the pod
 * never runs unconfined), and its pod.
 */
export function renderCellManifests(opts: CellManifestOptions): CellManifests {
  const { orgId } = opts;
  const r = resolve(opts);
  const name = cellName(orgId);
  const labels = labelsFor(orgId);
  const metadata = { name, namespace: r.namespace, labels };

  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { ...metadata, labels: { ...labels } },
    automountServiceAccountToken: false,
  };

  const networkPolicy: V1NetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { ...metadata, labels: { ...labels } },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': CELL_APP_LABEL, [ORG_LABEL]: orgId } },
      policyTypes: ['Ingress', 'Egress'],
      // Nothing may connect to a cell: the cell dials out to the control plane (through its proxy).
      ingress: [],
      egress: [
        {
          // One peer with both selectors: pods that are this org's proxy AND in the proxy namespace.
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': r.proxyNamespace } },
              podSelector: {
                matchLabels: { 'app.kubernetes.io/name': EGRESS_PROXY_APP_LABEL, [ORG_LABEL]: orgId },
              },
            },
          ],
          ports: [{ protocol: 'TCP', port: r.proxyPort }],
        },
      ],
    },
  };

  const podSpec: V1Pod['spec'] = {
    runtimeClassName: r.runtimeClassName,
    serviceAccountName: name,
    automountServiceAccountToken: false,
    hostNetwork: false,
    hostPID: false,
    hostIPC: false,
    shareProcessNamespace: false,
    enableServiceLinks: false,
    // The supervisor owns restarts (backoff, audit): a cell that exits stays down until it acts.
    restartPolicy: 'Never',
    terminationGracePeriodSeconds: 5,
    // No DNS: the proxy resolves names. A dead local resolver makes lookups fail at once.
    dnsPolicy: 'None',
    dnsConfig: { nameservers: ['127.0.0.1'] },
    ...(r.proxyIP ? { hostAliases: [{ ip: r.proxyIP, hostnames: [EGRESS_PROXY_HOST] }] } : {}),
    os: { name: 'linux' },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: CELL_UID,
      runAsGroup: CELL_UID,
      fsGroup: CELL_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: 'cell',
        image: r.image,
        imagePullPolicy: r.imagePullPolicy,
        command: [r.nodePath],
        args: [...CELL_NODE_FLAGS, `${r.appDir}/${CELL_PROGRAM}`],
        workingDir: '/cell',
        env: [
          { name: 'NODE_ENV', value: 'production' },
          { name: 'PADDOCK_CELL_ORG', value: orgId },
        ],
        resources: {
          requests: {
            cpu: r.cpuRequest,
            memory: r.memory,
            'ephemeral-storage': r.ephemeralStorageRequest,
          },
          limits: {
            cpu: r.cpuLimit,
            memory: r.memory,
            'ephemeral-storage': r.ephemeralStorageLimit,
          },
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
        volumeMounts: [
          { name: 'cell', mountPath: '/cell' },
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'identity', mountPath: CELL_IDENTITY_DIR, readOnly: true },
        ],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
    ],
    volumes: [
      { name: 'cell', emptyDir: { sizeLimit: r.cellSize } },
      { name: 'tmp', emptyDir: { sizeLimit: r.tmpSize } },
      {
        name: 'identity',
        projected: {
          sources: [
            // Bound to this pod: useless once the pod is gone, and not accepted by the API server.
            {
              serviceAccountToken: {
                audience: r.audience,
                expirationSeconds: r.expirationSeconds,
                path: 'token',
              },
            },
            { configMap: { name: r.caConfigMap, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          ],
        },
      },
    ],
  };
  const specHash = createHash('sha256')
    .update(JSON.stringify({ labels, podSpec }))
    .digest('hex')
    .slice(0, 16);
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...metadata, labels: { ...labels }, annotations: { [SPEC_HASH_ANNOTATION]: specHash } },
    spec: podSpec,
  };
  return { name, namespace: r.namespace, serviceAccount, networkPolicy, pod };
}

/**
 * The cells' namespace, set up once by an operator: Pod Security `restricted` enforced by the API
 * server (so no pod in it can be privileged, whoever creates it), a default-deny NetworkPolicy
 * (covers any pod without its own policy), and a LimitRange capping every container at a cell's
 * limits.
 */
export function renderNamespaceManifests(opts: KubernetesCellOptions): NamespaceManifests {
  const r = resolve(opts);
  const labels = { 'app.kubernetes.io/managed-by': 'paddock' };
  const pss = 'restricted';
  return {
    namespace: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: r.namespace,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': pss,
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': pss,
          'pod-security.kubernetes.io/audit': pss,
        },
      },
    },
    defaultDeny: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', namespace: r.namespace, labels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    limitRange: {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'cell-limits', namespace: r.namespace, labels },
      spec: {
        limits: [
          {
            type: 'Container',
            // No `default` limits on purpose: a container without limits is refused, not filled in.
            max: { cpu: r.cpuLimit, memory: r.memory, 'ephemeral-storage': r.ephemeralStorageLimit },
            defaultRequest: {
              cpu: r.cpuRequest,
              memory: r.memory,
              'ephemeral-storage': r.ephemeralStorageRequest,
            },
          },
        ],
      },
    },
  };
}

/** Where the Kubernetes client's configuration would come from; `none` says why there is none. */
export type KubeconfigSource =
  | { kind: 'files'; paths: string[] }
  | { kind: 'in-cluster' }
  | { kind: 'none'; reason: string };

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The same search as `kubectl` and `KubeConfig.loadFromDefault`, except that finding nothing is
 * said as such (the client library silently falls back to http://localhost:8080).
 */
export function findKubeconfig(
  env: Record<string, string | undefined> = process.env,
  home: string = homedir(),
): KubeconfigSource {
  if (env.KUBECONFIG) {
    const paths = env.KUBECONFIG.split(delimiter).filter(Boolean);
    const missing = paths.filter((p) => !existsSync(p));
    if (missing.length === paths.length) {
      return {
        kind: 'none',
        reason: `no Kubernetes cluster configured: KUBECONFIG names ${missing.join(', ')}, which does not exist.`,
      };
    }
    return { kind: 'files', paths: paths.filter((p) => existsSync(p)) };
  }
  const file = join(home, '.kube', 'config');
  if (existsSync(file)) return { kind: 'files', paths: [file] };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) return { kind: 'in-cluster' };
  return {
    kind: 'none',
    reason: `no Kubernetes cluster configured: no kubeconfig (KUBECONFIG is unset and ${file} does not exist) and not running inside a cluster.`,
  };
}

export interface KubernetesProviderOptions extends KubernetesCellOptions {
  /** A loaded configuration; without it, `findKubeconfig` decides. */
  kubeConfig?: KubeConfig;
  /** Environment and home directory for `findKubeconfig` (default: this process's). */
  env?: Record<string, string | undefined>;
  homeDir?: string;
  /** Budget of each request to the API server (default 10 s). */
  timeoutMs?: number;
  /** Server-side apply field manager (default `paddock`). */
  fieldManager?: string;
}

export interface AppliedCell {
  name: string;
  namespace: string;
  /** The pod's uid: the control plane accepts the cell's token only with this pod uid in it. */
  podUid: string | undefined;
  /** Whether an existing pod was replaced (or kept because it runs the same spec). */
  pod: 'created' | 'replaced' | 'kept';
}

type ClientModule = typeof import('@kubernetes/client-node');

interface Client {
  k8s: ClientModule;
  api: KubernetesObjectApi;
  server: string;
}

function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (body && typeof body === 'object' && 'message' in body) return String(body.message);
  if (typeof body === 'string' && body) return body.slice(0, 300);
  return 'no message';
}

/**
 * Runs org cells as pods (see the module comment). Not a `SandboxProvider`: a pod is not a child
 * process, so the supervisor will talk to it over the network channel described in
 * docs/cells-kubernetes.md rather than over stdio.
 */
export class KubernetesCellProvider {
  readonly name = 'kubernetes';
  readonly guarantees = [
    'one pod per org under the gVisor runtime class: its own user-space kernel, not the node kernel',
    'non-root (uid 65532), no privilege escalation, all capabilities dropped, seccomp RuntimeDefault, read-only root filesystem',
    'no Kubernetes API token; host network, pid and ipc namespaces off; no service links, no DNS',
    'NetworkPolicy: no ingress; egress only to its own org proxy pods on the proxy port (needs a CNI that enforces NetworkPolicy)',
    'memory, CPU and ephemeral-storage limits; /cell and /tmp size-capped',
    'not done yet: the network channel to the control plane, the proxy pods and their own policy, persistent /cell',
  ];
  readonly #o: KubernetesProviderOptions;
  #client: Client | undefined;

  constructor(opts: KubernetesProviderOptions) {
    resolve(opts); // refuse bad options now, not at the first start
    this.#o = opts;
  }

  render(orgId: string): CellManifests {
    return renderCellManifests({ ...this.#o, orgId });
  }

  renderNamespace(): NamespaceManifests {
    return renderNamespaceManifests(this.#o);
  }

  /** Whether a cluster is configured and ready for cells: reachable, namespace, RuntimeClass, CA. */
  async check(): Promise<SandboxCheck> {
    let client: Client;
    try {
      client = await this.#connect();
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    const r = resolve(this.#o);
    const probes: Array<[string, KubernetesObject & { metadata: { name: string } }, string]> = [
      [
        `namespace ${r.namespace}`,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: r.namespace } },
        'create it with the manifests of `renderNamespaceManifests`',
      ],
      [
        `RuntimeClass ${r.runtimeClassName}`,
        { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: r.runtimeClassName } },
        'install gVisor (runsc) on the nodes and create the RuntimeClass (handler runsc), or enable GKE Sandbox',
      ],
      [
        `ConfigMap ${r.namespace}/${r.caConfigMap}`,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: r.caConfigMap, namespace: r.namespace } },
        "create it with key ca.crt: the CA of the control plane's cell endpoint",
      ],
    ];
    for (const [what, spec, fix] of probes) {
      try {
        await this.#withTimeout(client.api.read(spec), `reading ${what}`);
      } catch (err) {
        if (httpStatus(err) === 404) return { ok: false, reason: `${what} does not exist: ${fix}.` };
        return { ok: false, reason: this.#explain(err, client, `reading ${what}`).message };
      }
    }
    return { ok: true };
  }

  /**
   * Creates or updates the org's ServiceAccount and NetworkPolicy (server-side apply), then its
   * pod: kept if it runs the same spec, otherwise deleted and created anew (a pod's spec cannot
   * be changed in place, and a new pod is a new identity).
   */
  async apply(orgId: string): Promise<AppliedCell> {
    const m = this.render(orgId);
    const client = await this.#connectOrThrow();
    const { api, k8s } = client;
    const manager = this.#o.fieldManager ?? 'paddock';
    const ssa = async (obj: KubernetesObject, what: string) => {
      try {
        await this.#withTimeout(
          api.patch(
            structuredClone(obj),
            undefined,
            undefined,
            manager,
            true,
            k8s.PatchStrategy.ServerSideApply,
          ),
          what,
        );
      } catch (err) {
        throw this.#explain(err, client, what);
      }
    };
    await ssa(m.serviceAccount, `applying ServiceAccount ${m.namespace}/${m.name}`);
    await ssa(m.networkPolicy, `applying NetworkPolicy ${m.namespace}/${m.name}`);

    const ref = { apiVersion: 'v1', kind: 'Pod', metadata: { name: m.name, namespace: m.namespace } };
    const existing = await this.#readOrUndefined<V1Pod>(client, ref, `reading Pod ${m.namespace}/${m.name}`);
    const wanted = m.pod.metadata?.annotations?.[SPEC_HASH_ANNOTATION];
    if (existing) {
      const same = existing.metadata?.annotations?.[SPEC_HASH_ANNOTATION] === wanted;
      const alive = existing.status?.phase === 'Pending' || existing.status?.phase === 'Running';
      if (same && alive && !existing.metadata?.deletionTimestamp) {
        return { name: m.name, namespace: m.namespace, podUid: existing.metadata?.uid, pod: 'kept' };
      }
      await this.#deletePod(client, ref);
    }
    try {
      const created = await this.#withTimeout(
        api.create<V1Pod>(structuredClone(m.pod), undefined, undefined, manager),
        `creating Pod ${m.namespace}/${m.name}`,
      );
      return {
        name: m.name,
        namespace: m.namespace,
        podUid: created.metadata?.uid,
        pod: existing ? 'replaced' : 'created',
      };
    } catch (err) {
      throw this.#explain(err, client, `creating Pod ${m.namespace}/${m.name}`);
    }
  }

  /** Deletes the org's pod, then its NetworkPolicy and ServiceAccount (missing ones are fine). */
  async remove(orgId: string): Promise<void> {
    const m = this.render(orgId);
    const client = await this.#connectOrThrow();
    const ref = (apiVersion: string, kind: string) => ({
      apiVersion,
      kind,
      metadata: { name: m.name, namespace: m.namespace },
    });
    await this.#deletePod(client, ref('v1', 'Pod'));
    for (const obj of [ref('networking.k8s.io/v1', 'NetworkPolicy'), ref('v1', 'ServiceAccount')]) {
      try {
        await this.#withTimeout(client.api.delete(obj), `deleting ${obj.kind}`);
      } catch (err) {
        if (httpStatus(err) !== 404)
          throw this.#explain(err, client, `deleting ${obj.kind} ${m.namespace}/${m.name}`);
      }
    }
  }

  async #deletePod(client: Client, ref: KubernetesObject & { metadata: { name: string } }): Promise<void> {
    const what = `Pod ${ref.metadata.namespace}/${ref.metadata.name}`;
    try {
      await this.#withTimeout(client.api.delete(ref), `deleting ${what}`);
    } catch (err) {
      if (httpStatus(err) === 404) return;
      throw this.#explain(err, client, `deleting ${what}`);
    }
    // The name is free only once the old pod is gone (its grace period is 5 s).
    const deadline = Date.now() + 30_000;
    while (await this.#readOrUndefined(client, ref, `reading ${what}`)) {
      if (Date.now() > deadline) {
        throw new PaddockError(504, 'kubernetes_timeout', `${what} was still terminating after 30 s.`, {
          retryable: true,
        });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async #readOrUndefined<T extends KubernetesObject>(
    client: Client,
    ref: KubernetesObject & { metadata: { name: string } },
    what: string,
  ): Promise<T | undefined> {
    try {
      return (await this.#withTimeout(client.api.read(ref), what)) as T;
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw this.#explain(err, client, what);
    }
  }

  async #connectOrThrow(): Promise<Client> {
    try {
      return await this.#connect();
    } catch (err) {
      throw new PaddockError(
        503,
        'kubernetes_not_configured',
        `Cannot run cells on Kubernetes: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  async #connect(): Promise<Client> {
    if (this.#client) return this.#client;
    const k8s = await import('@kubernetes/client-node');
    let kc = this.#o.kubeConfig;
    if (!kc) {
      const source = findKubeconfig(this.#o.env ?? process.env, this.#o.homeDir ?? homedir());
      if (source.kind === 'none') throw new Error(source.reason);
      kc = new k8s.KubeConfig();
      if (source.kind === 'in-cluster') kc.loadFromCluster();
      else {
        for (const [i, path] of source.paths.entries()) {
          try {
            if (i === 0) kc.loadFromFile(path);
            else {
              const more = new k8s.KubeConfig();
              more.loadFromFile(path);
              kc.mergeConfig(more, true);
            }
          } catch (err) {
            throw new Error(`cannot read the kubeconfig ${path}: ${(err as Error).message}`);
          }
        }
      }
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) {
      throw new Error(
        `no Kubernetes cluster configured: the kubeconfig has no cluster for its current context (${JSON.stringify(kc.getCurrentContext())}).`,
      );
    }
    this.#client = { k8s, api: k8s.KubernetesObjectApi.makeApiClient(kc), server: cluster.server };
    return this.#client;
  }

  /** Turns a client failure into an error an operator can act on. */
  #explain(err: unknown, client: Client, doing: string): PaddockError {
    const status = httpStatus(err);
    if (status === undefined) {
      const message = (err as Error).message;
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      // fetch reports a network failure as "fetch failed" with the system error as its cause
      if (typeof cause?.code === 'string' || /fetch failed|no answer within/.test(message)) {
        const why = typeof cause?.code === 'string' ? `${cause.code}: ${String(cause.message)}` : message;
        return new PaddockError(
          503,
          'kubernetes_unreachable',
          `Cannot reach the Kubernetes API server at ${client.server} while ${doing} (${why}).`,
          { cause: err, retryable: true },
        );
      }
      return new PaddockError(
        503,
        'kubernetes_failed',
        `The Kubernetes client failed while ${doing}: ${message}`,
        {
          cause: err,
        },
      );
    }
    const hint =
      status === 401
        ? 'the cluster refused the kubeconfig credentials'
        : status === 403
          ? "the kubeconfig's identity is not allowed to do this (see the RBAC in docs/cells-kubernetes.md)"
          : apiMessage(err);
    return new PaddockError(
      status >= 500 ? 503 : 502,
      'kubernetes_refused',
      `Kubernetes answered ${status} while ${doing}: ${hint}.`,
      { cause: err, retryable: status >= 500 || status === 409 || status === 429 },
    );
  }

  async #withTimeout<T>(p: Promise<T>, doing: string): Promise<T> {
    const ms = this.#o.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms while ${doing}`)), ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
