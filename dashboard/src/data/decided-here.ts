/**
 * Calls this tab decided itself: when one leaves the waiting list, the frame tells of it only if
 * it was decided elsewhere (another person, another tab, the chat of another page).
 */
const decided = new Set<string>();

export function markDecidedHere(approvalId: string): void {
  decided.add(approvalId);
}

export function decidedHere(approvalId: string): boolean {
  return decided.has(approvalId);
}
