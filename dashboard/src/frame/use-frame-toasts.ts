/**
 * Toasts the frame raises itself from the live stream: a waiting call decided elsewhere (another
 * person, another tab) or left to expire, so whoever watches any page hears of it.
 */
import { useEffect, useRef } from 'react';
import type { LiveApproval } from '../api/index.ts';
import { decidedHere, toast, useLive } from '../data/index.ts';

export function useApprovalToasts(): void {
  const { pending } = useLive();
  const known = useRef<Map<string, LiveApproval> | null>(null);
  useEffect(() => {
    if (pending === null) return;
    const before = known.current;
    known.current = new Map(pending.map((a) => [a.id, a]));
    if (before === null) return;
    for (const [id, a] of before) {
      if (known.current.has(id) || decidedHere(id)) continue;
      if (Date.parse(a.expiresAt) <= Date.now()) toast(`The call of ${a.tool} waited too long and expired.`);
      else toast(`The waiting call of ${a.tool} was decided elsewhere.`);
    }
  }, [pending]);
}
