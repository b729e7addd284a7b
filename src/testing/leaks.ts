/** A secret as a careless or hostile server prints it: every form Paddock's scrubber claims to catch. */
export function leakedForms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    // base64 and base64url at every alignment: after 0, 1 or 2 other bytes, and before some.
    ...['', 'u:', 'ab:', 'user:'].map((p) => Buffer.from(`${p}${secret}`).toString('base64')),
    ...['', 'x', 'xy'].map((p) => Buffer.from(`${p}${secret}!`).toString('base64url')),
  ];
}
