/**
 * What Paddock posts in Slack, as Block Kit: an answer in a thread (tool calls and denials as
 * context lines above it) and an approval card with Approve/Deny buttons. Nothing here carries
 * a tool's arguments or output: only names, outcomes and ids, so a check that withheld text in
 * Paddock cannot be bypassed through Slack.
 */
import type { types } from '@slack/bolt';

type Block = types.KnownBlock;

/** Slack's limits: a section's text, and blocks per message. */
const SECTION_CHARS = 3000;
const MAX_BLOCKS = 50;

export const APPROVE = 'paddock_approve';
export const DENY = 'paddock_deny';

/** Text Slack shows as is (`&`, `<`, `>` escaped, so an agent cannot forge a mention or a link). */
export const slackText = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const context = (line: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text: line }] });

/** An answer: context lines, then the text cut into sections Slack accepts. */
export function answerBlocks(lines: string[], text: string): Block[] {
  const blocks: Block[] = lines.slice(0, 10).map(context);
  if (lines.length > 10) blocks.push(context(`…and ${lines.length - 10} more`));
  const safe = slackText(text);
  for (let i = 0; i < safe.length && blocks.length < MAX_BLOCKS; i += SECTION_CHARS)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: safe.slice(i, i + SECTION_CHARS) } });
  return blocks;
}

export interface CardFacts {
  approvalId: string;
  agentName: string;
  tool: string;
  requestedBy: string | null;
  expiresAt: string;
  /** Where to look at the arguments (they are not put in Slack). */
  url: string;
}

export function cardBlocks(c: CardFacts): Block[] {
  return [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${slackText(c.agentName)}* wants to call \`${slackText(c.tool)}\` and waits for an approval.`,
      },
    },
    context(
      `Request ${c.approvalId} · asked for ${slackText(c.requestedBy ?? 'no person')} · expires ${c.expiresAt} · <${c.url}|see the arguments in Paddock>`,
    ),
    {
      type: 'actions',
      block_id: 'paddock_decision',
      elements: [
        {
          type: 'button',
          action_id: APPROVE,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: c.approvalId,
        },
        {
          type: 'button',
          action_id: DENY,
          style: 'danger',
          text: { type: 'plain_text', text: 'Deny' },
          value: c.approvalId,
        },
      ],
    },
  ];
}

/** The card once decided (anywhere): no buttons, who decided and where. */
export function decidedBlocks(c: {
  approvalId: string;
  tool: string;
  status: string;
  by: string | null;
  where: string;
  /** Why it ended undecided (an expired request): said in place of where. */
  why?: string | undefined;
}): Block[] {
  const how = c.why ? `: ${c.why}` : ` ${c.where}`;
  return [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `\`${slackText(c.tool)}\`: *${c.status}*${c.by ? ` by ${slackText(c.by)}` : ''}${how}.`,
      },
    },
    context(`Request ${c.approvalId}`),
  ];
}
