/**
 * Beside a new agent token: the configuration each common MCP client takes to reach the agent at
 * `/mcp/{org}`, with the address and the token filled in, ready to paste. Shown only while the
 * token is (once): a configuration holding it is as secret as the token.
 */
import { useState } from 'react';
import { CopyButton, SelectField } from '../ui/index.ts';

type Client = 'claude-code' | 'claude-code-json' | 'claude-desktop' | 'cursor' | 'vscode' | 'mcp-remote';

interface Shape {
  label: string;
  /** Where it goes, in words. */
  where: string;
  text: (url: string, token: string, name: string) => string;
}

const json = (v: unknown) => JSON.stringify(v, null, 2);

/** mcp-remote bridges a client that only starts local commands to an HTTP MCP server. */
const remote = (url: string, token: string) => ({
  command: 'npx',
  // The header's value rides in an environment variable: some clients split arguments at spaces.
  args: ['-y', 'mcp-remote', url, '--header', `Authorization:${'$'}{PADDOCK_AUTH}`],
  env: { PADDOCK_AUTH: `Bearer ${token}` },
});

const SHAPES: Record<Client, Shape> = {
  'claude-code': {
    label: 'Claude Code (command)',
    where: 'Run it in a terminal; add --scope project to share it through .mcp.json.',
    text: (url, token, name) =>
      `claude mcp add --transport http ${name} ${url} --header "Authorization: Bearer ${token}"`,
  },
  'claude-code-json': {
    label: 'Claude Code (.mcp.json)',
    where: 'In .mcp.json at the project root.',
    text: (url, token, name) =>
      json({ mcpServers: { [name]: { type: 'http', url, headers: { Authorization: `Bearer ${token}` } } } }),
  },
  'claude-desktop': {
    label: 'Claude Desktop',
    where: 'In claude_desktop_config.json (Settings → Developer → Edit Config), through mcp-remote.',
    text: (url, token, name) => json({ mcpServers: { [name]: remote(url, token) } }),
  },
  cursor: {
    label: 'Cursor',
    where: 'In ~/.cursor/mcp.json (every project) or .cursor/mcp.json (this project).',
    text: (url, token, name) =>
      json({ mcpServers: { [name]: { url, headers: { Authorization: `Bearer ${token}` } } } }),
  },
  vscode: {
    label: 'VS Code',
    where: 'In .vscode/mcp.json, or the user configuration (MCP: Open User Configuration).',
    text: (url, token, name) =>
      json({ servers: { [name]: { type: 'http', url, headers: { Authorization: `Bearer ${token}` } } } }),
  },
  'mcp-remote': {
    label: 'Any client that starts a command (mcp-remote)',
    where: 'Where the client lists its MCP servers as commands to start.',
    text: (url, token, name) => json({ mcpServers: { [name]: remote(url, token) } }),
  },
};

const OPTIONS = (Object.keys(SHAPES) as Client[]).map((value) => ({ value, label: SHAPES[value].label }));

/** A server name clients accept: lower-case letters, digits and dashes. */
function serverName(agentName: string): string {
  const base = agentName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `paddock-${base || 'agent'}`.slice(0, 60);
}

export function McpClientSetup({
  slug,
  agentName,
  token,
}: {
  slug: string;
  agentName: string;
  token: string;
}) {
  const [client, setClient] = useState<Client>('claude-code');
  const url = `${window.location.origin}/mcp/${encodeURIComponent(slug)}`;
  const shape = SHAPES[client];
  const text = shape.text(url, token, serverName(agentName));
  return (
    <div className="mcp-setup">
      <h3 className="mcp-setup-title">Connect an MCP client</h3>
      <p className="hint">
        The endpoint is <code>{url}</code>. Each configuration below holds the token: keep it as secret as the
        token itself.
      </p>
      <SelectField label="Client" value={client} onChange={setClient} options={OPTIONS} />
      <p className="hint">{shape.where}</p>
      <div className="secret-row">
        <pre className="code-block mcp-config" data-testid="mcp-config">
          {text}
        </pre>
        <CopyButton text={text} what={`${shape.label} configuration`} />
      </div>
    </div>
  );
}
