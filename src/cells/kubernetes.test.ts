/**
 * The Kubernetes cell manifests, checked without a cluster: against the Kubernetes OpenAPI
 * schemas (kubernetes-models), against the client's field lists (what strict server-side field
 * validation would refuse), for their security properties and for tenant separation; and the
 * provider's behaviour with no cluster, an unreachable one, and a fake API server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { LimitRange, Namespace, Pod, ServiceAccount } from 'kubernetes-models/v1';
import { PaddockError } from '../errors/index.ts';
import {
  CELL_UID,
  type CellManifests,
  cellName,
  EGRESS_PROXY_HOST,
  findKubeconfig,
  KubernetesCellProvider,
  ORG_LABEL,
  renderCellManifests,
  renderNamespaceManifests,
  SPEC_HASH_ANNOTATION,
} from './kubernetes.ts';
import { cellSpec } from './supervisor.ts';

const IMAGE =
  'registry.example/paddock@sha256:0000000000000000000000000000000000000000000000000000000000000000';
const ACME = 'org_0123456789abcdef';
const GLOBEX = 'org_fedcba9876543210';

const render = (orgId: string, extra: Record<string, unknown> = {}) =>
  renderCellManifests({ orgId, image: IMAGE, ...extra });

// ---- schema validation (kubernetes-models: the OpenAPI schemas of Kubernetes 1.3x) ----

const MODELS: Record<string, any> = { Pod, ServiceAccount, Namespace, LimitRange, NetworkPolicy };

/** Throws the schema's complaint if `obj` is not a valid object of its kind. */
function validate(obj: any): void {
  const Model = MODELS[obj.kind];
  assert.ok(Model, `no schema for kind ${obj.kind}`);
  new Model(obj).validate();
}

/**
 * Fields the Kubernetes API does not know, by the client's generated models (Kubernetes 1.3x).
 * The OpenAPI schemas allow unknown fields; the API server drops them, or refuses them under
 * strict field validation (kubectl's default), and the client would drop them silently.
 */
function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === undefined || value === null) return [];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) {
    if (!Array.isArray(value)) return [`${path} is not a list`];
    return value.flatMap((v, i) => unknownFields(v, list[1]!, `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  }
  if (['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString'].includes(type)) return [];
  const model = (k8s as any)[type];
  if (typeof model?.getAttributeTypeMap !== 'function') return [`${path}: no model for type ${type}`];
  const attrs: Array<{ baseName: string; type: string }> = model.getAttributeTypeMap();
  return Object.entries(value as object).flatMap(([k, v]) => {
    const attr = attrs.find((a) => a.baseName === k);
    return attr ? unknownFields(v, attr.type, `${path}.${k}`) : [`${path}.${k}`];
  });
}

const strict = (obj: any) => unknownFields(obj, `V1${obj.kind}`, obj.kind);

const all = (m: CellManifests) => [m.serviceAccount, m.networkPolicy, m.pod];

// ---- a tiny NetworkPolicy evaluator (matchLabels only, which is all we render) ----

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined;

function selects(sel: Selector, labels: Record<string, string>): boolean {
  assert.ok(sel, 'a missing selector selects nothing here');
  assert.equal(sel.matchExpressions, undefined, 'evaluator only handles matchLabels');
  return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

interface Endpoint {
  namespace: string;
  labels: Record<string, string>;
}

const nsLabels = (name: string) => ({ 'kubernetes.io/metadata.name': name });

function policyApplies(np: any, pod: Endpoint): boolean {
  return np.metadata.namespace === pod.namespace && selects(np.spec.podSelector, pod.labels);
}

function egressAllowed(np: any, to: Endpoint, port: number): boolean {
  return (np.spec.egress ?? []).some(
    (rule: any) =>
      (rule.ports ?? []).some((p: any) => p.protocol === 'TCP' && p.port === port) &&
      (rule.to ?? []).some(
        (peer: any) =>
          // a peer without namespaceSelector means the policy's own namespace
          (peer.namespaceSelector
            ? selects(peer.namespaceSelector, nsLabels(to.namespace))
            : to.namespace === np.metadata.namespace) &&
          (peer.podSelector ? selects(peer.podSelector, to.labels) : true) &&
          peer.ipBlock === undefined,
      ),
  );
}

const proxyOf = (orgId: string, namespace = 'paddock-cells'): Endpoint => ({
  namespace,
  labels: { 'app.kubernetes.io/name': 'paddock-egress-proxy', [ORG_LABEL]: orgId },
});
const podOf = (m: CellManifests): Endpoint => ({
  namespace: m.pod.metadata!.namespace!,
  labels: m.pod.metadata!.labels!,
});

describe('kubernetes cell manifests', () => {
  test('pass the Kubernetes OpenAPI schemas, for two orgs and the namespace set-up', () => {
    for (const orgId of [ACME, GLOBEX]) for (const obj of all(render(orgId))) validate(obj);
    const ns = renderNamespaceManifests({ image: IMAGE });
    for (const obj of [ns.namespace, ns.defaultDeny, ns.limitRange]) validate(obj);
  });

  test('use only fields the Kubernetes API knows (what strict field validation checks)', () => {
    const ns = renderNamespaceManifests({ image: IMAGE });
    for (const obj of [
      ...all(render(ACME, { egressProxy: { serviceIP: '10.96.0.20' } })),
      ...Object.values(ns),
    ])
      assert.deepEqual(strict(obj), [], `${obj.kind} has unknown fields`);
  });

  test('the checks can fail: broken manifests are refused', () => {
    const broken = (edit: (pod: any) => void) => {
      const pod: any = structuredClone(render(ACME).pod);
      edit(pod);
      return pod;
    };
    // wrong types and formats: the schemas refuse them
    assert.throws(
      () => validate(broken((p) => (p.spec.securityContext.runAsUser = '65532'))),
      /runAsUser must be integer/,
    );
    assert.throws(() => validate(broken((p) => delete p.spec.containers)), /containers/);
    assert.throws(
      () => validate(broken((p) => (p.spec.containers[0].resources.limits.memory = '128 MB'))),
      /memory/,
    );
    assert.throws(
      () => validate(broken((p) => (p.spec.containers[0].securityContext.capabilities.drop = 'ALL'))),
      /drop must be array/,
    );
    assert.throws(() => validate(broken((p) => (p.apiVersion = 'v2'))), /apiVersion/);
    const np: any = structuredClone(render(ACME).networkPolicy);
    np.spec.egress[0].ports[0].protocol = 'ICMP';
    assert.throws(() => validate(np), /protocol/);
    // a misspelt field: the schemas let it through, the strict check does not
    const typo = broken((p) => {
      p.spec.runtimeClasName = p.spec.runtimeClassName;
      delete p.spec.runtimeClassName;
    });
    validate(typo);
    assert.deepEqual(strict(typo), ['Pod.spec.runtimeClasName']);
    assert.deepEqual(strict(broken((p) => (p.spec.containers[0].securityContext.readOnlyRootFS = true))), [
      'Pod.spec.containers[0].securityContext.readOnlyRootFS',
    ]);
  });

  test('the pod is locked down', () => {
    const { pod, name } = render(ACME);
    const spec = pod.spec!;
    assert.equal(spec.runtimeClassName, 'gvisor');
    assert.equal(render(ACME, { runtimeClassName: 'gvisor-kvm' }).pod.spec!.runtimeClassName, 'gvisor-kvm');
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.serviceAccountName, name);
    assert.equal(spec.hostNetwork, false);
    assert.equal(spec.hostPID, false);
    assert.equal(spec.hostIPC, false);
    assert.equal(spec.enableServiceLinks, false);
    assert.equal(spec.restartPolicy, 'Never');
    assert.equal(spec.dnsPolicy, 'None');
    assert.deepEqual(spec.dnsConfig, { nameservers: ['127.0.0.1'] });
    assert.equal(spec.hostAliases, undefined);
    assert.deepEqual(spec.securityContext, {
      runAsNonRoot: true,
      runAsUser: CELL_UID,
      runAsGroup: CELL_UID,
      fsGroup: CELL_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(spec.containers.length, 1);
    assert.equal(spec.initContainers, undefined);
    const c = spec.containers[0]!;
    assert.equal(c.image, IMAGE);
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(c.resources, {
      requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
      limits: { cpu: '500m', memory: '128Mi', 'ephemeral-storage': '128Mi' },
    });
    assert.equal(c.ports, undefined, 'a cell listens on nothing');
    assert.equal(c.livenessProbe, undefined, 'the supervisor judges liveness by heartbeat');
    assert.equal(c.stdin, undefined);
    // writable: only the size-capped /cell and /tmp; the identity volume is read-only
    const volumes = Object.fromEntries(spec.volumes!.map((v) => [v.name, v]));
    assert.deepEqual(volumes.cell!.emptyDir, { sizeLimit: '64Mi' });
    assert.deepEqual(volumes.tmp!.emptyDir, { sizeLimit: '16Mi' });
    assert.deepEqual(
      c.volumeMounts!.map((v) => [v.mountPath, v.readOnly ?? false]),
      [
        ['/cell', false],
        ['/tmp', false],
        ['/run/paddock/identity', true],
      ],
    );
    const token = volumes.identity!.projected!.sources!.find((s) => s.serviceAccountToken)!
      .serviceAccountToken!;
    assert.deepEqual(token, { audience: 'paddock-cell', expirationSeconds: 600, path: 'token' });
    assert.equal(
      Object.keys(spec).some((k) => /^host(Path|Users)$/.test(k)) ||
        spec.volumes!.some((v) => v.hostPath || v.secret),
      false,
    );
  });

  test('the container runs the cell program as cellSpec does, with only its two variables', () => {
    const c = render(ACME).pod.spec!.containers[0]!;
    const host = cellSpec(ACME, tmpdir(), '/app/src/cells/cell-main.ts');
    assert.deepEqual(c.command, ['node']);
    assert.deepEqual(c.args, host.args);
    assert.deepEqual(Object.fromEntries(c.env!.map((e) => [e.name, e.value])), host.env);
    assert.ok(c.env!.every((e) => e.valueFrom === undefined));
    assert.equal(c.workingDir, '/cell');
    const custom = render(ACME, { appDir: '/srv/paddock/', nodePath: '/usr/local/bin/node' }).pod.spec!
      .containers[0]!;
    assert.deepEqual(custom.command, ['/usr/local/bin/node']);
    assert.deepEqual(custom.args, [
      '--max-old-space-size=64',
      '--max-semi-space-size=1',
      '/srv/paddock/src/cells/cell-main.ts',
    ]);
  });

  test('NetworkPolicy: no ingress at all; egress only to its org proxy pods on the proxy port', () => {
    const m = render(ACME);
    const np: any = m.networkPolicy;
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.spec.ingress, []);
    assert.equal(np.spec.egress.length, 1);
    assert.deepEqual(np.spec.egress[0], {
      to: [
        {
          namespaceSelector: { matchLabels: nsLabels('paddock-cells') },
          podSelector: {
            matchLabels: { 'app.kubernetes.io/name': 'paddock-egress-proxy', [ORG_LABEL]: ACME },
          },
        },
      ],
      ports: [{ protocol: 'TCP', port: 3128 }],
    });
    assert.ok(policyApplies(np, podOf(m)));
    assert.ok(egressAllowed(np, proxyOf(ACME), 3128));
    assert.ok(!egressAllowed(np, proxyOf(ACME), 53), 'no DNS');
    assert.ok(!egressAllowed(np, proxyOf(ACME), 443), 'not another port of the proxy');
    assert.ok(!egressAllowed(np, proxyOf(ACME, 'elsewhere'), 3128), 'not a look-alike in another namespace');
    assert.ok(!egressAllowed(np, { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, 53));
    assert.ok(
      !egressAllowed(np, { namespace: 'paddock', labels: { 'app.kubernetes.io/name': 'paddock' } }, 3000),
    );

    const moved = render(ACME, { egressProxy: { namespace: 'paddock-egress', port: 8080 } }).networkPolicy;
    assert.ok(egressAllowed(moved, proxyOf(ACME, 'paddock-egress'), 8080));
    assert.ok(!egressAllowed(moved, proxyOf(ACME, 'paddock-cells'), 8080));
    assert.ok(!egressAllowed(moved, proxyOf(ACME, 'paddock-egress'), 3128));
  });

  test("two orgs: distinct names and labels, and one org's policy neither covers nor admits the other", () => {
    const a = render(ACME);
    const b = render(GLOBEX);
    assert.notEqual(a.name, b.name);
    for (const [m, orgId] of [
      [a, ACME],
      [b, GLOBEX],
    ] as const) {
      for (const obj of all(m)) {
        assert.equal(obj.metadata!.name, m.name);
        assert.equal(obj.metadata!.labels![ORG_LABEL], orgId);
        assert.equal(obj.metadata!.labels!['app.kubernetes.io/name'], 'paddock-cell');
      }
      assert.equal(m.pod.spec!.containers[0]!.env!.find((e) => e.name === 'PADDOCK_CELL_ORG')!.value, orgId);
    }
    assert.ok(!policyApplies(a.networkPolicy, podOf(b)));
    assert.ok(!policyApplies(b.networkPolicy, podOf(a)));
    assert.ok(!egressAllowed(a.networkPolicy, proxyOf(GLOBEX), 3128), "not the other org's proxy");
    assert.ok(!egressAllowed(b.networkPolicy, proxyOf(ACME), 3128));
    assert.ok(!egressAllowed(a.networkPolicy, podOf(b), 3128), "not the other org's cell");
    assert.notEqual(
      a.pod.metadata!.annotations![SPEC_HASH_ANNOTATION],
      b.pod.metadata!.annotations![SPEC_HASH_ANNOTATION],
    );
  });

  test('names are DNS-1123 labels, stable, and never shared by two org ids', () => {
    const ids = [ACME, 'org-0123456789abcdef', 'ORG_0123456789ABCDEF', 'x', 'a.b_c', `o${'x'.repeat(62)}`];
    const names = ids.map(cellName);
    for (const n of names) assert.match(n, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    assert.equal(new Set(names).size, ids.length);
    assert.equal(cellName(ACME), cellName(ACME));
    assert.match(cellName(ACME), /^cell-org-0123456789abcdef-[0-9a-f]{10}$/);
  });

  test('refuses what cannot be rendered safely', () => {
    for (const bad of ['', 'org a', '-org', 'org_', 'o'.repeat(64), 'org/../x']) {
      assert.throws(
        () => render(bad),
        (e: unknown) => e instanceof PaddockError && e.code === 'invalid_org_id',
      );
    }
    assert.throws(() => renderCellManifests({ orgId: ACME, image: ' ' }), /image/);
    assert.throws(() => render(ACME, { namespace: 'Paddock_Cells' }), /DNS-1123/);
    assert.throws(() => render(ACME, { egressProxy: { port: 0 } }), /TCP port/);
    assert.throws(() => render(ACME, { egressProxy: { serviceIP: 'proxy.local' } }), /not an IP/);
    assert.throws(() => render(ACME, { identity: { expirationSeconds: 60 } }), /600/);
  });

  test('with the proxy Service IP, the cell finds its proxy through /etc/hosts, not DNS', () => {
    const { pod } = render(ACME, { egressProxy: { serviceIP: '10.96.0.20' } });
    assert.deepEqual(pod.spec!.hostAliases, [{ ip: '10.96.0.20', hostnames: [EGRESS_PROXY_HOST] }]);
    validate(pod);
  });

  test('the namespace: Pod Security restricted enforced, default deny, containers capped', () => {
    const ns = renderNamespaceManifests({ image: IMAGE, namespace: 'cells' });
    const labels = ns.namespace.metadata!.labels!;
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
    assert.equal(ns.defaultDeny.metadata!.namespace, 'cells');
    assert.deepEqual(ns.defaultDeny.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const limit = ns.limitRange.spec!.limits[0]!;
    assert.deepEqual(limit.max, { cpu: '500m', memory: '128Mi', 'ephemeral-storage': '128Mi' });
    assert.equal((limit as any).default, undefined, 'a container without limits is refused, not filled in');
  });
});

// ---- the provider: no cluster, an unreachable one, and a fake API server ----

describe('KubernetesCellProvider', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'paddock-k8s-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('check() without a cluster: not ok, and says there is no kubeconfig or cluster', async () => {
    const p = new KubernetesCellProvider({ image: IMAGE, env: {}, homeDir: dir });
    const r = await p.check();
    assert.equal(r.ok, false);
    assert.match(r.reason!, /no Kubernetes cluster configured: no kubeconfig/);
    assert.match(r.reason!, /not running inside a cluster/);
    await assert.rejects(
      p.apply(ACME),
      (e: unknown) =>
        e instanceof PaddockError && e.code === 'kubernetes_not_configured' && /kubeconfig/.test(e.message),
    );
    const missing = await new KubernetesCellProvider({
      image: IMAGE,
      env: { KUBECONFIG: join(dir, 'nope.yaml') },
      homeDir: dir,
    }).check();
    assert.equal(missing.ok, false);
    assert.match(missing.reason!, /KUBECONFIG names .*nope\.yaml, which does not exist/);
    assert.deepEqual(findKubeconfig({}, dir).kind, 'none');
  });

  test('check() and apply() with an unreachable cluster: not ok, and a clear, retryable error', async () => {
    // a port that was just free: nothing listens there
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise((r) => probe.close(r));
    const file = join(dir, 'kubeconfig.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: nowhere\n  cluster:\n    server: https://127.0.0.1:${port}`,
        'users:',
        '- name: someone\n  user:\n    token: not-a-real-token',
        'contexts:',
        '- name: here\n  context:\n    cluster: nowhere\n    user: someone',
        'current-context: here',
        '',
      ].join('\n'),
    );
    const p = new KubernetesCellProvider({ image: IMAGE, env: { KUBECONFIG: file }, homeDir: dir });
    const r = await p.check();
    assert.equal(r.ok, false);
    assert.match(
      r.reason!,
      new RegExp(`Cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port}`),
    );
    assert.match(r.reason!, /ECONNREFUSED/);
    await assert.rejects(p.apply(ACME), (e: unknown) => {
      assert.ok(e instanceof PaddockError);
      assert.equal(e.code, 'kubernetes_unreachable');
      assert.equal(e.retryable, true);
      assert.match(e.message, /applying ServiceAccount paddock-cells\/cell-org-0123456789abcdef-/);
      assert.doesNotMatch(e.message, /not-a-real-token/);
      return true;
    });
  });

  test('a hung API server: check() and apply() give up after timeoutMs', async () => {
    const hung = createServer(() => undefined).listen(0, '127.0.0.1');
    await new Promise((r) => hung.once('listening', r));
    try {
      const kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        clusters: [
          {
            name: 'hung',
            server: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
            skipTLSVerify: true,
          },
        ],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'hung', cluster: 'hung', user: 'u' }],
        currentContext: 'hung',
      });
      const p = new KubernetesCellProvider({ image: IMAGE, kubeConfig: kc, timeoutMs: 200 });
      const started = Date.now();
      const r = await p.check();
      assert.equal(r.ok, false);
      assert.match(r.reason!, /Cannot reach the Kubernetes API server .*no answer within 200 ms/);
      await assert.rejects(
        p.apply(ACME),
        (e: unknown) => e instanceof PaddockError && e.code === 'kubernetes_unreachable',
      );
      assert.ok(Date.now() - started < 3000);
    } finally {
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
  });

  describe('against a fake API server', () => {
    interface Seen {
      method: string;
      path: string;
      query: Record<string, string>;
      contentType: string | undefined;
      body: any;
    }
    let server: Server;
    let seen: Seen[] = [];
    /** Objects the fake "cluster" holds, by path. */
    const objects = new Map<string, any>();
    let kc: k8s.KubeConfig;

    const resources: Record<string, Array<[string, string, boolean]>> = {
      '/api/v1': [
        ['pods', 'Pod', true],
        ['serviceaccounts', 'ServiceAccount', true],
        ['configmaps', 'ConfigMap', true],
        ['namespaces', 'Namespace', false],
      ],
      '/apis/networking.k8s.io/v1': [['networkpolicies', 'NetworkPolicy', true]],
      '/apis/node.k8s.io/v1': [['runtimeclasses', 'RuntimeClass', false]],
    };

    const readBody = async (req: IncomingMessage) => {
      let s = '';
      for await (const chunk of req) s += chunk;
      return s ? JSON.parse(s) : undefined;
    };

    before(async () => {
      server = createServer(async (req, res) => {
        const url = new URL(req.url!, 'http://x');
        const body = await readBody(req);
        const send = (status: number, obj: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        const gone = () =>
          send(404, { apiVersion: 'v1', kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
        const group = resources[url.pathname];
        if (req.method === 'GET' && group) {
          return send(200, {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: url.pathname.replace(/^\/apis?\//, ''),
            resources: group.map(([name, kind, namespaced]) => ({
              name,
              singularName: kind.toLowerCase(),
              kind,
              namespaced,
              verbs: ['get', 'create', 'patch', 'delete'],
            })),
          });
        }
        seen.push({
          method: req.method!,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          contentType: req.headers['content-type'],
          body,
        });
        if (req.method === 'GET')
          return objects.has(url.pathname) ? send(200, objects.get(url.pathname)) : gone();
        if (req.method === 'PATCH') {
          objects.set(url.pathname, body);
          return send(200, body);
        }
        if (req.method === 'POST') {
          const obj = {
            ...body,
            metadata: { ...body.metadata, uid: 'uid-new' },
            status: { phase: 'Pending' },
          };
          objects.set(`${url.pathname}/${body.metadata.name}`, obj);
          return send(201, obj);
        }
        if (req.method === 'DELETE') {
          if (!objects.delete(url.pathname)) return gone();
          return send(200, { apiVersion: 'v1', kind: 'Status', status: 'Success' });
        }
        send(405, {});
      }).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      kc = new k8s.KubeConfig();
      kc.loadFromOptions({
        // plain HTTP, which the client allows only with skipTLSVerify (there is no TLS to verify)
        clusters: [
          {
            name: 'fake',
            server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            skipTLSVerify: true,
          },
        ],
        users: [{ name: 'paddock', token: 'fake' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'paddock' }],
        currentContext: 'fake',
      });
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    const provider = () => new KubernetesCellProvider({ image: IMAGE, kubeConfig: kc });
    const base = '/api/v1/namespaces/paddock-cells';

    test('check(): ok when namespace, RuntimeClass and CA exist; otherwise names what is missing', async () => {
      objects.clear();
      objects.set('/api/v1/namespaces/paddock-cells', renderNamespaceManifests({ image: IMAGE }).namespace);
      const rc = {
        apiVersion: 'node.k8s.io/v1',
        kind: 'RuntimeClass',
        metadata: { name: 'gvisor' },
        handler: 'runsc',
      };
      objects.set(`${base}/configmaps/paddock-cell-ca`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'paddock-cell-ca', namespace: 'paddock-cells' },
        data: { 'ca.crt': '-----BEGIN CERTIFICATE-----' },
      });
      const missing = await provider().check();
      assert.equal(missing.ok, false);
      assert.match(missing.reason!, /RuntimeClass gvisor does not exist: install gVisor/);
      objects.set('/apis/node.k8s.io/v1/runtimeclasses/gvisor', rc);
      assert.deepEqual(await provider().check(), { ok: true });
    });

    test('apply(): server-side applies the ServiceAccount and NetworkPolicy, then creates the pod as rendered', async () => {
      objects.clear();
      seen = [];
      const m = render(ACME);
      const applied = await provider().apply(ACME);
      assert.deepEqual(applied, {
        name: m.name,
        namespace: 'paddock-cells',
        podUid: 'uid-new',
        pod: 'created',
      });
      assert.deepEqual(
        seen.map((s) => `${s.method} ${s.path}`),
        [
          `PATCH ${base}/serviceaccounts/${m.name}`,
          `PATCH /apis/networking.k8s.io/v1/namespaces/paddock-cells/networkpolicies/${m.name}`,
          `GET ${base}/pods/${m.name}`,
          `POST ${base}/pods`,
        ],
      );
      for (const s of seen.slice(0, 2)) {
        assert.equal(s.contentType, 'application/apply-patch+yaml');
        assert.deepEqual(s.query, { fieldManager: 'paddock', force: 'true' });
      }
      // what reaches the API server is exactly what was rendered (nothing dropped by the client)
      assert.deepEqual(seen[0]!.body, m.serviceAccount);
      assert.deepEqual(seen[1]!.body, m.networkPolicy);
      assert.deepEqual(seen[3]!.body, m.pod);
    });

    test('apply(): keeps a live pod with the same spec; replaces a dead or different one', async () => {
      const m = render(ACME);
      const podPath = `${base}/pods/${m.name}`;
      objects.set(podPath, {
        ...m.pod,
        metadata: { ...m.pod.metadata, uid: 'uid-old' },
        status: { phase: 'Running' },
      });
      seen = [];
      assert.equal((await provider().apply(ACME)).pod, 'kept');
      assert.ok(!seen.some((s) => s.method === 'POST' || s.method === 'DELETE'));

      objects.set(podPath, {
        ...m.pod,
        metadata: { ...m.pod.metadata, uid: 'uid-old' },
        status: { phase: 'Failed' },
      });
      seen = [];
      const replaced = await provider().apply(ACME);
      assert.deepEqual([replaced.pod, replaced.podUid], ['replaced', 'uid-new']);
      assert.deepEqual(
        seen.slice(2).map((s) => `${s.method} ${s.path}`),
        [`GET ${podPath}`, `DELETE ${podPath}`, `GET ${podPath}`, `POST ${base}/pods`],
      );

      const other = {
        ...m.pod,
        metadata: { ...m.pod.metadata, annotations: { [SPEC_HASH_ANNOTATION]: 'old' } },
      };
      objects.set(podPath, { ...other, status: { phase: 'Running' } });
      assert.equal((await provider().apply(ACME)).pod, 'replaced');

      await provider().remove(ACME);
      assert.ok(![...objects.keys()].some((k) => k.endsWith(`/${m.name}`)));
    });
  });
});
