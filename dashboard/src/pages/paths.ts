/** Where an org's items live in the dashboard: an agent, its chat, a run. */

const orgPath = (slug: string) => `/orgs/${encodeURIComponent(slug)}`;

export function agentPath(slug: string, id?: string): string {
  const base = `${orgPath(slug)}/agents`;
  return id ? `${base}/${encodeURIComponent(id)}` : base;
}

/** The chat with an agent: a new conversation, or `conversation` continued; `message` fills the input. */
export function chatPath(
  slug: string,
  agentId: string,
  opts: { conversation?: string; message?: string } = {},
): string {
  const q = new URLSearchParams();
  if (opts.conversation) q.set('conversation', opts.conversation);
  if (opts.message) q.set('message', opts.message);
  return `${agentPath(slug, agentId)}/chat${q.size ? `?${q}` : ''}`;
}

export function runPath(slug: string, id?: string): string {
  const base = `${orgPath(slug)}/runs`;
  return id ? `${base}/${encodeURIComponent(id)}` : base;
}

/** The runs page, filtered to one agent's runs. */
export function runsOfAgent(slug: string, agentId: string): string {
  return `${runPath(slug)}?agent=${encodeURIComponent(agentId)}`;
}

/** The audit trail: one entry opened (`entry`), or filtered (`q`: free text such as a request id; `agent`). */
export function auditPath(
  slug: string,
  opts: { entry?: number | string; q?: string; agent?: string } = {},
): string {
  const q = new URLSearchParams();
  if (opts.entry !== undefined) q.set('entry', String(opts.entry));
  if (opts.q) q.set('q', opts.q);
  if (opts.agent) q.set('agent', opts.agent);
  return `${orgPath(slug)}/audit${q.size ? `?${q}` : ''}`;
}
