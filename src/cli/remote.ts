/** CLI commands that act on the running server (the kill switch must reach its live sessions) use its API. */
import { existsSync, readFileSync } from 'node:fs';
import { storeOptions } from './options.ts';
import { UsageError } from './output.ts';

/**
 * A caller of the org's API: --url (default PADDOCK_PUBLIC_URL or http://127.0.0.1:7070) and a
 * token from --token-file or PADDOCK_TOKEN. Errors come back as the API's own message.
 */
export function remoteApi(v: Record<string, unknown>, org: string) {
  const { config } = storeOptions(v);
  const base = ((v.url as string | undefined) ?? config.publicUrl).replace(/\/+$/, '');
  const file = v['token-file'] as string | undefined;
  if (file && !existsSync(file)) throw new UsageError(`No token file ${file}.`);
  const token = file ? readFileSync(file, 'utf8').trim() : process.env.PADDOCK_TOKEN;
  if (!token) throw new UsageError('Give an API token with --token-file or PADDOCK_TOKEN.');
  return async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/orgs/${encodeURIComponent(org)}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new UsageError(`Cannot reach Paddock at ${base}. Is it running (npm start)?`);
    }
    // 204: the change was made and there is nothing to say.
    const answer = (res.status === 204 ? {} : await res.json()) as { error?: { message?: string } } & Record<
      string,
      unknown
    >;
    if (!res.ok) throw new UsageError(answer.error?.message ?? `HTTP ${res.status}`);
    return answer;
  };
}
