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
