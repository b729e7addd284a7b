/**
 * The one redaction layer: `redact` for logs, errors and audit details; `scrubber` for everything
 * an MCP server says (its own secrets in their encoded forms, then the same secret shapes).
 */
export * from './redact.ts';
export { scrubber, secretForms } from './scrub.ts';
