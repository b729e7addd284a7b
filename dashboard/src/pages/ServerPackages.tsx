/**
 * The MCP server packages installed on this Paddock (the Connections page's lower section): each
 * with the integrity it was verified against and the organization's connections that run it.
 * Owners and admins install one from the npm registry (names the operator allows only) and
 * remove one no connection runs; everyone else reads.
 */
import { useState } from 'react';
import { api, type ServerPackageList } from '../api/index.ts';
import { useAction, useListAction } from '../data/index.ts';
import {
  Alert,
  ConfirmButton,
  DataTable,
  Digest,
  formatDate,
  formatTime,
  Loading,
  Notice,
  onSubmit,
  Section,
  SubmitButton,
  TextField,
} from '../ui/index.ts';

export function ServerPackages({
  slug,
  manage,
  list,
  error,
  reload,
}: {
  slug: string;
  manage: boolean;
  list: ServerPackageList | undefined;
  error: string | null;
  reload: () => Promise<void>;
}) {
  const action = useListAction();
  const install = useAction();
  const [wanted, setWanted] = useState('');
  const [installed, setInstalled] = useState<string | null>(null);
  const allowlist = list?.allowlist ?? [];

  return (
    <Section title="Server packages">
      <p className="muted">
        MCP servers installed from the npm registry ({list?.registry ?? '…'}), for a local connection to run:
        each package and its dependencies checked against the integrity the registry published, no install
        script run, stored read-only and shown read-only in the sandbox. The operator decides which may be
        installed (PADDOCK_SERVER_PACKAGES):{' '}
        {allowlist.length ? (
          allowlist.map((a, i) => [i ? ', ' : '', <code key={a}>{a}</code>])
        ) : (
          <strong>none yet</strong>
        )}
        .
      </p>
      {manage ? (
        <form
          className="form-inline"
          aria-label="Install a server package"
          onSubmit={onSubmit(() => {
            setInstalled(null);
            void install.run(async () => {
              const r = await api.installServerPackage(slug, { package: wanted.trim() });
              setInstalled(
                r.already
                  ? `${r.package.id} is installed already.`
                  : `Installed ${r.package.id} (${r.package.packages} packages, each verified). Add a connection that runs it above.`,
              );
              setWanted('');
              await reload();
            });
          })}
        >
          <TextField
            label="Package"
            value={wanted}
            required
            maxLength={300}
            onChange={setWanted}
            placeholder="@modelcontextprotocol/server-memory@2026.8.31"
            autoComplete="off"
            spellCheck={false}
            hint="<name> or <name>@<version>; without a version, the registry’s latest."
          />
          <div className="form-actions">
            <SubmitButton
              busy={install.busy}
              label="Install"
              busyLabel="Installing…"
              className="btn btn-primary"
            />
          </div>
        </form>
      ) : null}
      <Alert message={install.error ?? action.error ?? error} />
      <Notice message={installed ?? action.notice} />
      {!list ? (
        <Loading what="server packages" />
      ) : list.packages.length === 0 ? (
        <p className="empty">
          No server packages installed. A server package is an MCP server from npm, installed with its
          integrity checked and no install scripts run, that a connection can then run.
        </p>
      ) : (
        <DataTable
          headers={['Package', 'Integrity', 'Tree', 'Installed', 'Run by']}
          actions={manage}
          label="Server packages"
        >
          {list.packages.map((p) => (
            <tr key={p.id} data-testid="server-package-row">
              <td>
                <code className="connection-url">{p.id}</code>
              </td>
              <td>
                <Digest value={p.integrity} />
              </td>
              <td className="nowrap">
                {p.packages} package{p.packages === 1 ? '' : 's'}
              </td>
              <td>
                <span className="nowrap" title={formatTime(p.installedAt)}>
                  {formatDate(p.installedAt)}
                </span>
                <div className="sub connection-url">by {p.installedBy}</div>
              </td>
              <td>
                {p.usedBy.length === 0 && p.usedElsewhere === 0 ? (
                  <span className="muted">No connection</span>
                ) : (
                  <>
                    {p.usedBy.map((u) => u.connectionName).join(', ')}
                    {p.usedElsewhere ? (
                      <div className="sub">
                        and {p.usedElsewhere} connection{p.usedElsewhere === 1 ? '' : 's'} of other
                        organizations
                      </div>
                    ) : null}
                  </>
                )}
              </td>
              {manage ? (
                <td className="col-actions">
                  <ConfirmButton
                    label="Remove"
                    confirmLabel="Yes, remove"
                    question={`Remove ${p.id}?`}
                    disabled={p.usedBy.length + p.usedElsewhere > 0}
                    onConfirm={() =>
                      action.act(async () => {
                        await api.removeServerPackage(slug, p.id);
                        return `Removed ${p.id}.`;
                      }, reload)
                    }
                  />
                </td>
              ) : null}
            </tr>
          ))}
        </DataTable>
      )}
    </Section>
  );
}
