/** Live updates: a hint per org when its log grows (across replicas), and the feed each viewer hears. */
export { type LiveApproval, type LiveCell, type LiveEvent, LiveFeed, type LiveViewer } from './feed.ts';
export { LIVE_CHANNEL, LiveSignals } from './signals.ts';
