/**
 * Runtime configuration: command-line flags beat environment variables beat embedded defaults.
 * The defaults give a working single-machine Paddock with no setup at all.
 */
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { BadRequestError } from '../errors/index.ts';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log/index.ts';
import { redactString } from '../redact/index.ts';

export interface Config {
  /** Where the embedded database, keys and cell directories live. */
  home: string;
  host: string;
  port: number;
  /** PostgreSQL connection string; when absent the embedded SQLite store is used. */
  databaseUrl: string | undefined;
  /** The address people reach Paddock at, used in sign-in links and SSO redirects. */
  publicUrl: string;
  /** `PADDOCK_LOG_LEVEL`; `info` when absent. */
  logLevel: LogLevel;
  /** `PADDOCK_LOG_FORMAT`; when absent, readable lines at a terminal and JSON lines otherwise. */
  logFormat: LogFormat | undefined;
  /** Signed audit checkpoints are also appended here, outside the database. */
  checkpointDir: string;
  /** And posted here, if set. */
  checkpointWebhook: string | undefined;
  /** Slack's Web API base URL (`PADDOCK_SLACK_API_URL`; Slack's own by default): a proxy, or a test's fake. */
  slackApiUrl: string | undefined;
  /** Run org cells without a sandbox (development only; loudly logged and audited). */
  unsafeNoSandbox: boolean;
  /**
   * `/mcp/{org}` also answers requests for these `Host`s (`name` or `name:port`; `*` for any),
   * beyond loopback names and the public URL's host (DNS-rebinding protection).
   */
  mcpAllowedHosts: string[];
  /** Browser pages at these origins may call `/mcp/{org}` (CORS), beyond loopback and the public URL; `*` for any. */
  mcpAllowedOrigins: string[];
  /**
   * Evidence collections verify the whole audit log again when its last full verification is
   * this many days old (between, they verify only the new entries); 7 when absent.
   */
  fullVerifyDays?: number | undefined;
  /**
   * The reverse proxies in front of Paddock (exact addresses, `PADDOCK_TRUSTED_PROXIES`): a request
   * from one of them is counted (rate limits) and recorded as the client its X-Forwarded-For names.
   */
  trustedProxies: string[];
  /** The bearer token `GET /metrics` answers to; without one, metrics are off. */
  metricsToken: string | undefined;
  /** Where OpenTelemetry traces are sent (OTLP over HTTP); without one, none are made or sent. */
  tracesEndpoint: string | undefined;
  /** Which traces are kept (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`; default `parentbased_always_on`). */
  traceSampler: TraceSampler;
  /** How finished spans are batched for export (`OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`). */
  traceBatch: TraceBatch;
  /** How spans are encoded on the wire (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`; default protobuf, as OTel's). */
  traceProtocol: TraceProtocol;
  /** Runs' message text goes into traces for orgs that record run text in full (off by default). */
  traceContent: boolean;
  /** The npm registry MCP server packages are installed from. */
  npmRegistry: string;
  /**
   * The MCP server packages that may be installed: exact names, scopes (`@scope/*`), or `*`.
   * The operator's setting for the whole installation; empty means none.
   */
  serverPackages: string[];
}

export interface ConfigOverrides {
  home?: string | undefined;
  host?: string | undefined;
  port?: string | number | undefined;
  databaseUrl?: string | undefined;
  publicUrl?: string | undefined;
  unsafeNoSandbox?: boolean | undefined;
}

/** A comma-separated setting as its entries. */
const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** OTLP's own settings: the traces endpoint as given, else the base endpoint's `/v1/traces`. */
function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  const chosen = url ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (chosen !== undefined && !URL.canParse(chosen))
    throw new BadRequestError('invalid_otlp_endpoint', `The OTLP endpoint "${chosen}" is not a URL.`);
  return chosen;
}

/** OTLP over HTTP, its two encodings; gRPC is not spoken. */
export type TraceProtocol = 'http/protobuf' | 'http/json';

/** The traces' protocol, as OTel's exporters read it: the traces' own setting, else the general one; default `http/protobuf`. */
function traceProtocol(env: NodeJS.ProcessEnv): TraceProtocol {
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim()
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const text = env[name]?.trim() || 'http/protobuf';
  if (text === 'http/protobuf' || text === 'http/json') return text;
  throw new BadRequestError(
    'invalid_otlp_protocol',
    `${name} is http/protobuf or http/json (gRPC is not supported), not "${text}".`,
  );
}

/**
 * The batch span processor's settings, by OTel's names (the SDK no longer reads them itself);
 * defaults as the SDK's: at least every 5 s, at most 512 spans at a time.
 */
export interface TraceBatch {
  scheduledDelayMillis: number;
  maxExportBatchSize: number;
}

function traceBatch(env: NodeJS.ProcessEnv): TraceBatch {
  const int = (name: string, fallback: number, max: number) => {
    const text = env[name]?.trim() || undefined;
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > max)
      throw new BadRequestError(
        'invalid_otel_bsp',
        `${name} is a whole number from 1 to ${max}, not "${text}".`,
      );
    return n;
  };
  return {
    scheduledDelayMillis: int('OTEL_BSP_SCHEDULE_DELAY', 5000, 60_000),
    maxExportBatchSize: int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 2048),
  };
}

/** The standard OTel samplers: always on or off, or a ratio of trace ids, each alone or after the caller's choice. */
export interface TraceSampler {
  name: 'always_on' | 'always_off' | 'traceidratio';
  /** Follow the caller's `traceparent` decision when there is one. */
  parentBased: boolean;
  /** For `traceidratio`: the share of traces kept, 0 to 1. */
  ratio: number;
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio'] as const;

/** OTel's sampler settings, refused when misspelt rather than silently keeping every trace. */
function traceSampler(env: NodeJS.ProcessEnv): TraceSampler {
  const text = (env.OTEL_TRACES_SAMPLER || 'parentbased_always_on').trim().toLowerCase();
  const parentBased = text.startsWith('parentbased_');
  const name = SAMPLERS.find((n) => n === (parentBased ? text.slice('parentbased_'.length) : text));
  if (name === undefined)
    throw new BadRequestError(
      'invalid_traces_sampler',
      `OTEL_TRACES_SAMPLER is one of always_on, always_off, traceidratio (each may be prefixed parentbased_), not "${text}".`,
    );
  const argText = env.OTEL_TRACES_SAMPLER_ARG?.trim() || undefined;
  const ratio = name === 'traceidratio' && argText !== undefined ? Number(argText) : 1;
  if (name === 'traceidratio' && !(/^\d*\.?\d+$/.test(argText ?? '1') && ratio >= 0 && ratio <= 1))
    throw new BadRequestError(
      'invalid_traces_sampler_arg',
      `OTEL_TRACES_SAMPLER_ARG is the share of traces kept, a number from 0 to 1, not "${argText}".`,
    );
  return { name, parentBased, ratio };
}

/**
 * A setting that is one of a few words, refused when it is anything else: a misspelt log level or
 * format would otherwise start Paddock logging in a way nobody asked for (or crash it later).
 */
function oneOf<T extends string>(
  name: string,
  allowed: readonly T[],
  value: string | undefined,
): T | undefined {
  const text = value?.trim() || undefined;
  if (text === undefined) return undefined;
  const found = allowed.find((a) => a === text.toLowerCase());
  if (found === undefined)
    throw new BadRequestError(
      `invalid_${name.replace(/^PADDOCK_/, '').toLowerCase()}`,
      `${name} is one of ${allowed.join(', ')}, not "${redactString(text)}".`,
    );
  return found;
}

/** Proxies are named by exact address: a range would trust whoever else holds one of it. */
function trustedProxies(value: string | undefined): string[] {
  const out = list(value);
  const bad = out.find((a) => isIP(a) === 0);
  if (bad !== undefined)
    throw new BadRequestError(
      'invalid_trusted_proxies',
      `PADDOCK_TRUSTED_PROXIES lists IP addresses (no ranges or names), comma-separated; "${bad}" is not one.`,
    );
  return out;
}

/** A scrape token someone could guess is refused, rather than protecting nothing. */
function metricsToken(env: NodeJS.ProcessEnv): string | undefined {
  const token = env.PADDOCK_METRICS_TOKEN || undefined;
  if (token !== undefined && (token.length < 16 || /\s/.test(token)))
    throw new BadRequestError(
      'weak_metrics_token',
      'PADDOCK_METRICS_TOKEN must be at least 16 characters, without spaces (e.g. `openssl rand -hex 24`).',
    );
  return token;
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const home = resolve(overrides.home ?? env.PADDOCK_HOME ?? '.paddock');
  const host = overrides.host ?? env.HOST ?? '127.0.0.1';
  const portText = String(overrides.port ?? env.PORT ?? '7070');
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 0 || port > 65535) {
    throw new BadRequestError('invalid_port', `Port must be a number from 0 to 65535, got "${portText}".`);
  }
  const databaseUrl = overrides.databaseUrl ?? (env.DATABASE_URL || undefined);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  // Set but empty reads as unset, as DATABASE_URL does.
  const publicUrl = (
    overrides.publicUrl ??
    (env.PADDOCK_PUBLIC_URL || `http://${shownHost}:${port}`)
  ).replace(/\/+$/, '');
  if (!URL.canParse(publicUrl) || !/^https?:$/.test(new URL(publicUrl).protocol))
    throw new BadRequestError(
      'invalid_public_url',
      `PADDOCK_PUBLIC_URL must be the http(s) address people use, such as https://paddock.example.com; got "${publicUrl}".`,
    );
  const fullText = env.PADDOCK_FULL_VERIFY_DAYS;
  if (fullText !== undefined && fullText !== '' && !/^[1-9]\d{0,3}$/.test(fullText)) {
    throw new BadRequestError(
      'invalid_full_verify_days',
      `PADDOCK_FULL_VERIFY_DAYS must be a whole number of days from 1 to 9999, got "${fullText}".`,
    );
  }
  return {
    home,
    host,
    port,
    databaseUrl,
    publicUrl,
    logLevel: oneOf('PADDOCK_LOG_LEVEL', LOG_LEVELS, env.PADDOCK_LOG_LEVEL) ?? 'info',
    logFormat: oneOf('PADDOCK_LOG_FORMAT', LOG_FORMATS, env.PADDOCK_LOG_FORMAT),
    checkpointDir: resolve(env.PADDOCK_CHECKPOINT_DIR ?? `${home}/checkpoints`),
    checkpointWebhook: env.PADDOCK_CHECKPOINT_WEBHOOK || undefined,
    slackApiUrl: env.PADDOCK_SLACK_API_URL || undefined,
    unsafeNoSandbox: overrides.unsafeNoSandbox ?? env.PADDOCK_UNSAFE_NO_SANDBOX === '1',
    mcpAllowedHosts: list(env.PADDOCK_MCP_ALLOWED_HOSTS).map((h) => h.toLowerCase()),
    mcpAllowedOrigins: list(env.PADDOCK_MCP_ALLOWED_ORIGINS).map((o) => o.replace(/\/+$/, '').toLowerCase()),
    fullVerifyDays: fullText ? Number(fullText) : undefined,
    trustedProxies: trustedProxies(env.PADDOCK_TRUSTED_PROXIES),
    metricsToken: metricsToken(env),
    tracesEndpoint: tracesEndpoint(env),
    traceSampler: traceSampler(env),
    traceBatch: traceBatch(env),
    traceProtocol: traceProtocol(env),
    traceContent: env.PADDOCK_TRACE_CONTENT === '1',
    npmRegistry: npmRegistry(env.PADDOCK_NPM_REGISTRY),
    serverPackages: list(env.PADDOCK_SERVER_PACKAGES),
  };
}

/** The registry's URL: http(s), no credentials in it. */
function npmRegistry(value: string | undefined): string {
  const text = value?.trim() || 'https://registry.npmjs.org/';
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || !['https:', 'http:'].includes(url.protocol) || url.username || url.password) {
    throw new BadRequestError(
      'invalid_npm_registry',
      `PADDOCK_NPM_REGISTRY is an http(s) URL without credentials in it, not "${text}".`,
    );
  }
  return url.href;
}
