/** All of the frame's keyboard and notice parts at once, for the layout to mount in one line. */
import { useMemo } from 'react';
import './frame.css';
import { CommandPalette, type PaletteItem } from './CommandPalette.tsx';
import { type GoShortcut, ShortcutsHelp, useShortcuts } from './Shortcuts.tsx';
import { Toaster } from './Toaster.tsx';
import { useApprovalToasts } from './use-frame-toasts.ts';
import { useShowItem } from './use-show-item.ts';

/** A page of the org this person may open, as the sidebar lists it. */
export interface FramePage {
  section: string;
  label: string;
  path: string;
}

/** The letter after `g` for each page that has one ("g t": the trail). */
const GO_KEYS: Record<string, string> = {
  overview: 'o',
  agents: 'a',
  runs: 'r',
  connections: 'c',
  approvals: 'p',
  audit: 't',
  compliance: 'm',
  secrets: 's',
};

export function FrameTools({ slug, pages }: { slug: string; pages: readonly FramePage[] }) {
  const go = useMemo<GoShortcut[]>(
    () =>
      pages.flatMap((p) => {
        const key = GO_KEYS[p.section];
        return key ? [{ key, label: p.section === 'audit' ? 'Audit trail' : p.label, path: p.path }] : [];
      }),
    [pages],
  );
  const items = useMemo<PaletteItem[]>(
    () => pages.map((p) => ({ id: `page-${p.section}`, kind: 'Page', label: p.label, path: p.path })),
    [pages],
  );
  useShortcuts(go);
  useApprovalToasts();
  useShowItem();
  return (
    <>
      <CommandPalette slug={slug} pages={items} />
      <ShortcutsHelp go={go} />
      <Toaster />
    </>
  );
}
