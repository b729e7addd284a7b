/**
 * Slack: an org's Slack app (credentials sealed in the vault), agents bound to channels, runs
 * started from mentions and direct messages as the person who wrote them, threads continuing
 * their conversation, and approval cards decided only by explicitly linked approvers. See
 * docs/slack.md.
 */

export { deleteSlackLinksOf, slackLinkEntriesOf } from './deletion.ts';
export {
  bindChannel,
  checkInstallInput,
  createLinkCode,
  EVENT_IDS_KEPT_MS,
  eventsPath,
  forgetOldSlackEvents,
  getSlack,
  installSlack,
  LINK_CODE_MINUTES,
  linkOf,
  type SlackInfo,
  type SlackInstallInput,
  unbindChannel,
  uninstallSlack,
  unlinkSlack,
} from './install.ts';
export { type SlackRequest, SlackService } from './service.ts';
export { TOLERANCE_SECONDS } from './verify.ts';
