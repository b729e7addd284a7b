/**
 * The frame's keyboard and notice parts, around every org page: the command palette, the
 * shortcuts and their list, toasts, and the row a palette jump points at.
 */
export { type FramePage, FrameTools } from './FrameTools.tsx';
export { setOverlay } from './overlay.ts';
