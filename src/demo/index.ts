/** The demo: a replayed agent on a governed order desk, for a new user's first minute. */
export { createDemo, DEMO_MESSAGE, DEMO_SERVER, type Demo } from './demo.ts';
