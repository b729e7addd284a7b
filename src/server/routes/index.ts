/** Every API route, by domain: this list is the API's table of contents. */
import type { RouteDef } from '../route.ts';
import { agentRoutes } from './agents.ts';
import { approvalRoutes } from './approvals.ts';
import { auditRoutes } from './audit.ts';
import { budgetRoutes } from './budgets.ts';
import { cellRoutes } from './cells.ts';
import { complianceRoutes } from './compliance.ts';
import { complianceDocumentRoutes } from './compliance-documents.ts';
import { complianceRegisterRoutes } from './compliance-registers.ts';
import { complianceReviewRoutes } from './compliance-reviews.ts';
import { connectionOAuthRoutes } from './connection-oauth.ts';
import { connectionRoutes } from './connections.ts';
import { conversationRoutes } from './conversations.ts';
import { demoRoutes } from './demo.ts';
import { evidencePackageRoutes } from './evidence-package.ts';
import { feedbackRoutes } from './feedback.ts';
import { grantRoutes } from './grants.ts';
import { healthRoutes } from './health.ts';
import { invitationRoutes } from './invitations.ts';
import { liveRoutes } from './live.ts';
import { mcpRoutes } from './mcp.ts';
import { memoryRoutes } from './memory.ts';
import { metricsRoutes } from './metrics.ts';
import { oauthRoutes } from './oauth.ts';
import { orgRoutes } from './orgs.ts';
import { peopleRoutes } from './people.ts';
import { runRoutes } from './runs.ts';
import { secretRoutes } from './secrets.ts';
import { serverPackageRoutes } from './server-packages.ts';
import { sessionRoutes } from './session.ts';
import { slackRoutes } from './slack.ts';
import { ssoRoutes } from './sso.ts';
import { teamRoutes } from './teams.ts';
import { tokenRoutes } from './tokens.ts';
import { webhookRoutes } from './webhooks.ts';

export const routes: RouteDef[] = [
  ...healthRoutes,
  ...metricsRoutes,
  ...sessionRoutes,
  ...ssoRoutes,
  ...orgRoutes,
  ...peopleRoutes,
  ...teamRoutes,
  ...tokenRoutes,
  ...invitationRoutes,
  ...auditRoutes,
  ...evidencePackageRoutes,
  ...secretRoutes,
  ...cellRoutes,
  ...agentRoutes,
  ...budgetRoutes,
  ...connectionRoutes,
  ...connectionOAuthRoutes,
  ...serverPackageRoutes,
  ...grantRoutes,
  ...approvalRoutes,
  ...liveRoutes,
  ...runRoutes,
  ...conversationRoutes,
  ...feedbackRoutes,
  ...memoryRoutes,
  ...demoRoutes,
  ...webhookRoutes,
  ...slackRoutes,
  ...complianceRoutes,
  ...complianceReviewRoutes,
  ...complianceRegisterRoutes,
  ...complianceDocumentRoutes,
  ...mcpRoutes,
  ...oauthRoutes,
];
