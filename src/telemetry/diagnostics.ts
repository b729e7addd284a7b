/**
 * OpenTelemetry's own warnings and errors — an export the collector refused or never answered,
 * spans dropped while it was slow — on Paddock's log at warn, through its redaction like every
 * line, at most one line a minute (with how many were held back): without it a collector that
 * stopped taking spans went unnoticed. Its info and debug chatter stays out.
 */
import { type DiagLogger, DiagLogLevel, diag } from '@opentelemetry/api';
import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import type { Logger } from '../log/index.ts';
import { scrubber } from '../redact/index.ts';

/** The longest message kept: a collector's error can carry a whole response body. */
const MESSAGE_MAX = 300;

/** What the SDK's error handler writes is a JSON object of the error's fields: its message is what a person reads. */
function readable(message: string): string {
  let text = message;
  if (message.startsWith('{'))
    try {
      const e = JSON.parse(message) as { message?: unknown; code?: unknown };
      if (typeof e.message === 'string') text = e.code ? `${e.message} (${String(e.code)})` : e.message;
    } catch {
      // not JSON after all: the text as it is
    }
  return text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX)}…` : text;
}

/**
 * What the exporter sends that a collector could say back (a hostile or confused one, in its
 * status text): the values of `OTEL_EXPORTER_OTLP_HEADERS` / `_TRACES_HEADERS` and the endpoint's
 * password. Redacted from a message as the MCP servers' secrets are, whatever their shape.
 */
export function exporterSecrets(env: NodeJS.ProcessEnv, endpoint: string): string[] {
  const headers = [env.OTEL_EXPORTER_OTLP_HEADERS, env.OTEL_EXPORTER_OTLP_TRACES_HEADERS].flatMap((h) =>
    Object.values(parseKeyPairsIntoRecord(h)),
  );
  let password = '';
  try {
    password = decodeURIComponent(new URL(endpoint).password);
  } catch {
    // not a URL the exporter could use either
  }
  return [...headers, password].filter((v) => v.length >= 4);
}

export function otelDiagnostics(
  log: Logger,
  secrets: string[] = [],
  everyMs = 60_000,
  now = () => Date.now(),
): DiagLogger {
  const scrub = scrubber(secrets);
  let last = Number.NEGATIVE_INFINITY;
  let held = 0;
  const say = (message: string) => {
    const t = now();
    if (t - last < everyMs) {
      held++;
      return;
    }
    last = t;
    log.warn(held > 0 ? { heldBack: held } : {}, `traces: ${scrub(readable(String(message)))}`);
    held = 0;
  };
  const quiet = () => undefined;
  return { error: say, warn: say, info: quiet, debug: quiet, verbose: quiet };
}

/** OpenTelemetry's diagnostics (process-wide, as its API keeps them) go to `log` from now on, `secrets` redacted. */
export function logOtelDiagnostics(log: Logger, secrets: string[]): void {
  diag.setLogger(otelDiagnostics(log, secrets), {
    logLevel: DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });
}
