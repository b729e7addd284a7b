/**
 * The org's retention policy, on its home page: how long audit details, run records,
 * conversations and agents' memory are kept before the retention jobs erase or delete them
 * (blank keeps them). Everyone who sees the org reads it; owners and admins change it. The
 * compliance center's PAD-RET-01 takes the same settings as evidence.
 */
import { Fragment, useState } from 'react';
import { api, type OrgSettings, type OrgWithRole } from '../api/index.ts';
import { useAction } from '../data/index.ts';
import { Alert, Notice, onSubmit, Section, TextField } from '../ui/index.ts';

type RetentionKey =
  | 'auditRetentionDays'
  | 'runRetentionDays'
  | 'conversationRetentionDays'
  | 'memoryRetentionDays';

/** Each setting: its label and what the job does with it. */
const RETENTION: Array<{ key: RetentionKey; label: string; hint: string }> = [
  {
    key: 'auditRetentionDays',
    label: 'Audit details (days)',
    hint: 'Older entries lose their details hourly; their hashes stay, so the log still verifies.',
  },
  { key: 'runRetentionDays', label: 'Run records (days)', hint: 'Deleted daily this long after they ended.' },
  {
    key: 'conversationRetentionDays',
    label: 'Conversations (days)',
    hint: 'Deleted daily, with their runs, when untouched this long.',
  },
  {
    key: 'memoryRetentionDays',
    label: 'Agents’ memory (days)',
    hint: 'Entries unchanged this long are deleted daily, pinned ones too.',
  },
];

const MAX_DAYS = 36500;

const shown = (settings: OrgSettings, key: RetentionKey) => {
  const v = settings[key];
  return v === null || v === undefined ? '' : String(v);
};

export function RetentionSettings({
  org,
  manage,
  onSaved,
}: {
  org: OrgWithRole;
  manage: boolean;
  onSaved: () => Promise<void>;
}) {
  const [values, setValues] = useState(
    () =>
      Object.fromEntries(RETENTION.map((r) => [r.key, shown(org.settings, r.key)])) as Record<
        RetentionKey,
        string
      >,
  );
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();

  const save = () => {
    setSaved(null);
    const settings: Partial<Record<RetentionKey, number | null>> = {};
    for (const r of RETENTION) {
      const text = values[r.key].trim();
      const days = text === '' ? null : Number(text);
      if (days !== null && (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)) {
        setError(
          `${r.label.replace(' (days)', '')}: a whole number of days from 1 to ${MAX_DAYS}, or blank to keep.`,
        );
        return;
      }
      settings[r.key] = days;
    }
    void run(async () => {
      await api.updateOrg(org.slug, { settings });
      await onSaved();
      setSaved('Retention saved.');
    });
  };

  return (
    <Section title="Retention">
      <p className="hint">
        How long data is kept before the retention jobs remove it, on record with counts. Blank keeps it.
      </p>
      {manage ? (
        <>
          <Alert message={error} />
          <Notice message={saved} />
          <form className="form-grid" aria-label="Retention" onSubmit={onSubmit(save)}>
            {RETENTION.map((r) => (
              <TextField
                key={r.key}
                label={r.label}
                type="number"
                min={1}
                max={MAX_DAYS}
                value={values[r.key]}
                onChange={(v) => setValues((was) => ({ ...was, [r.key]: v }))}
                hint={r.hint}
              />
            ))}
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={busy}>
                {busy ? 'Saving…' : 'Save retention'}
              </button>
            </div>
          </form>
        </>
      ) : (
        <dl className="facts" data-testid="retention-facts">
          {RETENTION.map((r) => (
            <Fragment key={r.key}>
              <dt>{r.label.replace(' (days)', '')}</dt>
              <dd>{shown(org.settings, r.key) ? `${shown(org.settings, r.key)} days` : 'Kept'}</dd>
            </Fragment>
          ))}
        </dl>
      )}
    </Section>
  );
}
