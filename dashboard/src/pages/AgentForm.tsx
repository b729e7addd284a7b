/**
 * The agent form (new and edit share it) and the small pieces the agent pages share: scope and
 * state labels, and the look-ups that turn ids into names (people, teams, model keys).
 */
import { useState } from 'react';
import {
  AGENT_SCOPES,
  type Agent,
  type AgentChecks,
  type AgentInput,
  type AgentScope,
  type AgentState,
  ApiError,
  api,
  canManage,
  MODEL_PROVIDERS,
  type ModelProvider,
  type OrgWithRole,
  type Person,
  type Role,
  type Secret,
  type Team,
} from '../api/index.ts';
import { useAction, useLoad } from '../data/index.ts';
import { Alert, NameField, onSubmit, SelectField, TextAreaField, TextField } from '../ui/index.ts';

export const SCOPE_LABEL: Record<AgentScope, string> = {
  private: 'Private',
  team: 'Team',
  organization: 'Organization',
};

const SCOPE_HINT: Record<AgentScope, string> = {
  private: 'Only its owner (and the organization’s owners, admins and auditors) can see it.',
  team: 'Everyone in the chosen team can see it.',
  organization: 'Everyone in the organization can see it.',
};

const STATE_LABEL: Record<AgentState, string> = { active: 'Active', stopped: 'Stopped' };

export function AgentStateBadge({ state, testId }: { state: AgentState; testId?: string }) {
  return (
    <span className={`status agent-state agent-${state}`} data-testid={testId}>
      {STATE_LABEL[state] ?? state}
    </span>
  );
}

/** Roles that may create agents (members become the owner of theirs). */
export function canCreateAgents(role: Role): boolean {
  return role === 'owner' || role === 'admin' || role === 'member';
}

/** Owners and admins change any agent; members only the agents they own; auditors none. */
export function canChangeAgent(role: Role, meId: string, agent: Agent): boolean {
  return canManage(role) || (role === 'member' && agent.ownerId === meId);
}

/** People, teams and model keys of the org, for names instead of ids. */
export interface AgentRefs {
  people: Map<string, Person>;
  teams: Team[] | undefined;
  /** null: this role may not list secrets (the picker is hidden); undefined: still loading. */
  modelKeys: Secret[] | null | undefined;
  error: string | null;
}

export function useAgentRefs(org: OrgWithRole): AgentRefs {
  const people = useLoad(() => api.people(org.slug), org.slug);
  const teams = useLoad(() => api.teams(org.slug), org.slug);
  // Members may not list secrets (403): do not ask. Auditors may, for the names of agents' keys.
  const keys = useLoad(async (): Promise<Secret[] | null> => {
    if (org.role === 'member') return null;
    try {
      return (await api.secrets(org.slug)).filter((s) => s.kind === 'model_key');
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) return null;
      throw err;
    }
  }, `${org.slug}/${org.role}`);
  return {
    people: new Map((people.data ?? []).map((p) => [p.id, p])),
    teams: teams.data,
    modelKeys: keys.data,
    error: people.error ?? teams.error ?? keys.error,
  };
}

export function personName(refs: AgentRefs, id: string | null | undefined, meId?: string): string {
  if (!id) return '—';
  if (id === meId) return 'You';
  const p = refs.people.get(id);
  return p ? p.name || p.email : id;
}

export function teamName(refs: AgentRefs, id: string | null | undefined): string {
  if (!id) return '—';
  return refs.teams?.find((t) => t.id === id)?.name ?? id;
}

export function secretName(refs: AgentRefs, id: string | null | undefined): string {
  if (!id) return '—';
  return refs.modelKeys?.find((s) => s.id === id)?.name ?? id;
}

/** "Organization", "Team Platform", "Private". */
export function scopeText(refs: AgentRefs, scope: AgentScope, teamId: string | null): string {
  return scope === 'team' ? `Team ${teamName(refs, teamId)}` : SCOPE_LABEL[scope];
}

type Parsed = { ok: true; value: Record<string, unknown> | null } | { ok: false; error: string };

/** The output schema textarea: blank is "no schema"; otherwise a JSON object. */
export function parseOutputSchema(text: string): Parsed {
  if (!text.trim()) return { ok: true, value: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      error: `The output schema is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'The output schema must be a JSON object, such as {"type": "object"}.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** The checks as typed: blank for none; the server judges the rules (and their patterns) in depth. */
export function parseChecks(
  text: string,
): { ok: true; value: AgentChecks | null } | { ok: false; error: string } {
  if (!text.trim()) return { ok: true, value: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      error: `The checks are not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { rules?: unknown }).rules)) {
    return { ok: false, error: 'The checks are a JSON object with a "rules" list, such as {"rules": []}.' };
  }
  return { ok: true, value: value as AgentChecks };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * New (no `agent`) or edit (prefilled from `agent`). Editing sends only the fields that changed,
 * so a version's diff holds what the person meant to change; model settings the form does not
 * show (temperature, max output tokens) are kept as they are.
 */
export function AgentForm({
  org,
  meId,
  refs,
  agent,
  onSaved,
  onCancel,
}: {
  org: OrgWithRole;
  meId: string;
  refs: AgentRefs;
  agent?: Agent;
  onSaved: (agent: Agent) => Promise<void> | void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(agent?.name ?? '');
  const [description, setDescription] = useState(agent?.description ?? '');
  const [scope, setScope] = useState<AgentScope>(agent?.scope ?? 'private');
  const [teamId, setTeamId] = useState(agent?.teamId ?? '');
  const [instructions, setInstructions] = useState(agent?.instructions ?? '');
  const [provider, setProvider] = useState(agent?.model.provider ?? '');
  const [model, setModel] = useState(agent?.model.model ?? '');
  const [secretId, setSecretId] = useState(agent?.model.secretId ?? '');
  const [schemaText, setSchemaText] = useState(
    agent?.outputSchema ? JSON.stringify(agent.outputSchema, null, 2) : '',
  );
  const [schemaError, setSchemaError] = useState<string | null>(null);
  const [checksText, setChecksText] = useState(agent?.checks ? JSON.stringify(agent.checks, null, 2) : '');
  const [checksError, setChecksError] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();
  const editing = agent !== undefined;
  const label = editing ? `Edit ${agent.name}` : 'New agent';

  // Members scope agents only to teams they are in; keep the agent's own team listed either way.
  const teams = (refs.teams ?? []).filter(
    (t) => org.role !== 'member' || t.members.includes(meId) || t.id === agent?.teamId,
  );
  const teamOptions = [
    { value: '', label: teams.length ? 'Choose a team' : 'No team to choose' },
    ...teams.map((t) => ({ value: t.id, label: t.name })),
  ];

  const keys = refs.modelKeys;
  const keyOptions =
    keys === null
      ? null
      : [
          { value: '', label: keys === undefined ? 'Loading model keys…' : 'None' },
          ...(keys ?? []).map((s) => ({
            value: s.id,
            label: `${s.name}${s.provider ? ` (${s.provider})` : ''} ${s.hint}${
              s.agentIds === null
                ? ''
                : ` · limited to ${s.agentIds.length} agent${s.agentIds.length === 1 ? '' : 's'}`
            }`,
          })),
          // The agent's key may be gone from the vault (or still loading): keep it selectable.
          ...(secretId && !(keys ?? []).some((s) => s.id === secretId)
            ? [{ value: secretId, label: `Unknown secret ${secretId}` }]
            : []),
        ];

  const submit = () => {
    setError(null);
    const parsed = parseOutputSchema(schemaText);
    if (!parsed.ok) {
      setSchemaError(parsed.error);
      return;
    }
    setSchemaError(null);
    const checks = parseChecks(checksText);
    if (!checks.ok) {
      setChecksError(checks.error);
      return;
    }
    setChecksError(null);
    if (scope === 'team' && !teamId) {
      setError('Choose the team of a team-scoped agent.');
      return;
    }
    // The provider is typed freely (with suggestions): one the server does not run is refused
    // there, and its message shows in the form.
    const nextModel: AgentInput['model'] = {
      ...(agent?.model ?? {}),
      provider: provider.trim() as ModelProvider,
      model: model.trim(),
    };
    if (keyOptions !== null && (agent?.model.secretId ?? '') !== secretId) {
      if (secretId) nextModel.secretId = secretId;
      else delete nextModel.secretId;
    }
    if (!agent) {
      const input: AgentInput = {
        name: name.trim(),
        description: description.trim(),
        scope,
        instructions,
        model: nextModel,
      };
      if (scope === 'team') input.teamId = teamId;
      if (parsed.value) input.outputSchema = parsed.value;
      if (checks.value) input.checks = checks.value;
      void run(async () => {
        await onSaved(await api.createAgent(org.slug, input));
      });
      return;
    }
    const patch: Partial<AgentInput> = {};
    if (name.trim() !== agent.name) patch.name = name.trim();
    if (description.trim() !== agent.description) patch.description = description.trim();
    if (scope !== agent.scope || (scope === 'team' && teamId !== agent.teamId)) {
      patch.scope = scope;
      patch.teamId = scope === 'team' ? teamId : null;
    }
    if (instructions !== agent.instructions) patch.instructions = instructions;
    if (!same(nextModel, agent.model)) patch.model = nextModel;
    if (!same(parsed.value, agent.outputSchema)) patch.outputSchema = parsed.value;
    if (!same(checks.value, agent.checks)) patch.checks = checks.value;
    if (Object.keys(patch).length === 0) {
      setError('Nothing to save: no field changed.');
      return;
    }
    void run(async () => {
      await onSaved(await api.updateAgent(org.slug, agent.id, patch));
    });
  };

  return (
    <form className="agent-form" aria-label={label} onSubmit={onSubmit(submit)}>
      <Alert message={error} />
      <div className="form-grid">
        <NameField value={name} onChange={setName} placeholder="e.g. support-triage" autoComplete="off" />
        <TextField
          label="Description"
          value={description}
          maxLength={1000}
          onChange={setDescription}
          placeholder="What it is for"
          autoComplete="off"
        />
        <SelectField
          label="Scope"
          value={scope}
          onChange={setScope}
          options={AGENT_SCOPES.map((s) => ({ value: s, label: SCOPE_LABEL[s] }))}
          hint={SCOPE_HINT[scope]}
        />
        {scope === 'team' ? (
          <SelectField
            label="Team"
            value={teamId}
            onChange={setTeamId}
            options={teamOptions}
            disabled={teams.length === 0}
            hint={
              teams.length === 0
                ? org.role === 'member'
                  ? 'You are in no team yet.'
                  : 'This organization has no team yet.'
                : undefined
            }
          />
        ) : null}
      </div>
      <TextAreaField
        label="Instructions"
        value={instructions}
        onChange={setInstructions}
        maxLength={100_000}
        rows={8}
        placeholder="What the agent does, how, and what it must never do."
        hint="The agent’s system prompt. Every change is kept as a new version."
      />
      <fieldset className="agent-model">
        <legend>Model</legend>
        <div className="form-grid">
          <TextField
            label="Provider"
            value={provider}
            required
            maxLength={50}
            onChange={setProvider}
            list="agent-providers"
            placeholder="e.g. anthropic"
            autoComplete="off"
            hint="openai, anthropic, google, openai-compatible, or demo (a replay that needs no model key)."
          />
          <datalist id="agent-providers">
            {MODEL_PROVIDERS.map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          <TextField
            label="Model"
            value={model}
            required
            maxLength={100}
            onChange={setModel}
            placeholder="e.g. claude-sonnet-4-5"
            autoComplete="off"
            spellCheck={false}
          />
          {keyOptions ? (
            <SelectField
              label="Model key"
              value={secretId}
              onChange={setSecretId}
              options={keyOptions}
              disabled={keys === undefined}
              hint="Optional. A model key from Secrets (bring your own key); its value is never shown."
            />
          ) : null}
        </div>
      </fieldset>
      <TextAreaField
        label="Output schema (optional)"
        value={schemaText}
        onChange={(v) => {
          setSchemaText(v);
          if (schemaError) setSchemaError(null);
        }}
        rows={5}
        code
        spellCheck={false}
        placeholder='e.g. {"type": "object", "properties": {"answer": {"type": "string"}}}'
        invalid={schemaError}
        hint="A JSON Schema the agent’s answers must match. Blank: free-form answers."
      />
      <TextAreaField
        label="Checks (optional)"
        value={checksText}
        onChange={(v) => {
          setChecksText(v);
          if (checksError) setChecksError(null);
        }}
        rows={5}
        code
        spellCheck={false}
        placeholder='e.g. {"rules": [{"name": "cards", "match": "card_numbers", "action": "block", "on": ["output", "tool_args"]}], "streaming": "hold_back"}'
        invalid={checksError}
        hint="Rules that block or redact what matches (secrets, card_numbers, emails, or a pattern) in its answers and its tool calls’ arguments, and how it streams. Blank: none."
      />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save changes' : 'Create agent'}
        </button>
        <button type="button" className="btn btn-ghost" disabled={busy} onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
