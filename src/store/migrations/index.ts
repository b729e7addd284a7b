/**
 * Versioned migrations, applied in name order on start (and by `paddock migrate`).
 * To add one: create `NNN-what-it-does.ts` exporting a function of the dialect, and list it here.
 */
import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../types.ts';
import { foundation } from './001-foundation.ts';
import { auditLog } from './002-audit-log.ts';
import { secrets } from './003-secrets.ts';
import { cells } from './004-cells.ts';
import { agents } from './005-agents.ts';
import { connections } from './006-connections.ts';
import { grants } from './007-grants.ts';
import { approvals } from './008-approvals.ts';
import { auditEntryV2 } from './009-audit-entry-v2.ts';
import { cellHostIds } from './010-cell-host-ids.ts';
import { jobRuns } from './011-job-runs.ts';
import { removals } from './012-removals.ts';
import { runs } from './013-runs.ts';
import { webhooks } from './014-webhooks.ts';
import { compliance } from './015-compliance.ts';
import { evidencePackages } from './016-evidence-packages.ts';
import { toolDefinitionsWhole } from './017-tool-definitions-whole.ts';
import { promptsAndResources } from './018-prompts-and-resources.ts';
import { connectionPackages } from './019-connection-packages.ts';
import { outputChecksAndFeedback } from './020-output-checks-and-feedback.ts';
import { agentMemory } from './021-agent-memory.ts';
import { limitsAndBudgets } from './022-limits-and-budgets.ts';
import { mcpOauth } from './023-mcp-oauth.ts';
import { slack } from './024-slack.ts';
import { toolsVersion } from './025-tools-version.ts';
import { retentionIndexes } from './026-retention-indexes.ts';
import { slackSocketMode } from './027-slack-socket-mode.ts';
import { oauthSpentSecrets } from './028-oauth-spent-secrets.ts';
import { slackEventsHandled } from './029-slack-events-handled.ts';
import { remoteAuth } from './030-remote-auth.ts';
import { mcpSessions } from './031-mcp-sessions.ts';
import { serverPackages } from './032-server-packages.ts';
import { slackThreads } from './033-slack-threads.ts';
import { auditPartialIndexes } from './034-audit-partial-indexes.ts';
import { mcpAcrossReplicas } from './035-mcp-across-replicas.ts';
import { auditNodesInOrder } from './036-audit-nodes-in-order.ts';
import { mcpHeldNotifications } from './037-mcp-held-notifications.ts';
import { mcpSessionLogLevel } from './038-mcp-session-log-level.ts';
import { runToken } from './039-run-token.ts';
import { runDecisions } from './040-run-decisions.ts';
import { conversationIndexes } from './041-conversation-indexes.ts';
import { approvalRun } from './042-approval-run.ts';
import { slackCardRefreshed } from './043-slack-card-refreshed.ts';
import { approvalEndedBecause } from './044-approval-ended-because.ts';
import { sessionOrg } from './045-session-org.ts';

export function migrationProvider(dialect: Dialect): MigrationProvider {
  const all: Record<string, Migration> = {
    '001-foundation': foundation(dialect),
    '002-audit-log': auditLog(dialect),
    '003-secrets': secrets(dialect),
    '004-cells': cells(dialect),
    '005-agents': agents(dialect),
    '006-connections': connections(dialect),
    '007-grants': grants(dialect),
    '008-approvals': approvals(dialect),
    '009-audit-entry-v2': auditEntryV2(dialect),
    '010-cell-host-ids': cellHostIds(dialect),
    '011-job-runs': jobRuns(dialect),
    '012-removals': removals(dialect),
    '013-runs': runs(dialect),
    '014-webhooks': webhooks(dialect),
    '015-compliance': compliance(dialect),
    '016-evidence-packages': evidencePackages(dialect),
    '017-tool-definitions-whole': toolDefinitionsWhole(dialect),
    '018-prompts-and-resources': promptsAndResources(dialect),
    '019-connection-packages': connectionPackages(dialect),
    '020-output-checks-and-feedback': outputChecksAndFeedback(dialect),
    '021-agent-memory': agentMemory(dialect),
    '022-limits-and-budgets': limitsAndBudgets(dialect),
    '023-mcp-oauth': mcpOauth(dialect),
    '024-slack': slack(dialect),
    '025-tools-version': toolsVersion(dialect),
    '026-retention-indexes': retentionIndexes(dialect),
    '027-slack-socket-mode': slackSocketMode(dialect),
    '028-oauth-spent-secrets': oauthSpentSecrets(dialect),
    '029-slack-events-handled': slackEventsHandled(dialect),
    '030-remote-auth': remoteAuth(dialect),
    '031-mcp-sessions': mcpSessions(dialect),
    '032-server-packages': serverPackages(dialect),
    '033-slack-threads': slackThreads(dialect),
    '034-audit-partial-indexes': auditPartialIndexes(dialect),
    '035-mcp-across-replicas': mcpAcrossReplicas(dialect),
    '036-audit-nodes-in-order': auditNodesInOrder(dialect),
    '037-mcp-held-notifications': mcpHeldNotifications(dialect),
    '038-mcp-session-log-level': mcpSessionLogLevel(dialect),
    '039-run-token': runToken(dialect),
    '040-run-decisions': runDecisions(dialect),
    '041-conversation-indexes': conversationIndexes(dialect),
    '042-approval-run': approvalRun(dialect),
    '043-slack-card-refreshed': slackCardRefreshed(dialect),
    '044-approval-ended-because': approvalEndedBecause(dialect),
    '045-session-org': sessionOrg(dialect),
  };
  return { getMigrations: async () => all };
}
