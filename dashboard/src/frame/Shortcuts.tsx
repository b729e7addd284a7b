/**
 * The dashboard's keyboard shortcuts: ⌘K / Ctrl-K opens the command palette, `?` lists the
 * shortcuts, and `g` then a letter goes to a page (g o Overview, g a Agents, g t the audit trail,
 * g p Approvals…). Single keys are ignored while typing in a field.
 */
import { useEffect, useRef } from 'react';
import { navigate } from '../router.tsx';
import { useModal } from './dialog.ts';
import { setOverlay, useOverlay } from './overlay.ts';

/** A page `g` then `key` goes to. */
export interface GoShortcut {
  key: string;
  label: string;
  path: string;
}

/** How long after `g` its second key is awaited. */
const SEQUENCE_MS = 1500;

/** Whether the key was pressed where typing goes (a field, a select, an editable region). */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Listens for the shortcuts on the whole page while mounted. */
export function useShortcuts(go: readonly GoShortcut[]): void {
  const goRef = useRef(go);
  goRef.current = go;
  useEffect(() => {
    let gAt = 0;
    const onKey = (e: KeyboardEvent) => {
      if ((e.metaKey || e.ctrlKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setOverlay('palette');
        return;
      }
      if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey || typing(e.target)) return;
      // A dialog of the page (a confirmation) keeps its keys.
      if (document.querySelector('dialog[open]')) return;
      if (e.key === '?') {
        e.preventDefault();
        setOverlay('shortcuts');
        return;
      }
      if (gAt && Date.now() - gAt < SEQUENCE_MS) {
        gAt = 0;
        const target = goRef.current.find((s) => s.key === e.key.toLowerCase());
        if (target) {
          e.preventDefault();
          navigate(target.path);
        }
        return;
      }
      gAt = e.key === 'g' ? Date.now() : 0;
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** The list of shortcuts, opened with `?`. */
export function ShortcutsHelp({ go }: { go: readonly GoShortcut[] }) {
  const open = useOverlay() === 'shortcuts';
  const dialog = useRef<HTMLDialogElement>(null);
  useModal(dialog, open, () => setOverlay(null));
  const mac = /Mac|iPhone|iPad/.test(navigator.platform);
  return (
    <dialog ref={dialog} className="shortcuts" aria-labelledby="shortcuts-title">
      {open ? (
        <>
          <h2 id="shortcuts-title">Keyboard shortcuts</h2>
          <table className="shortcuts-table">
            <caption className="sr-only">Keys and what they do</caption>
            <tbody>
              <tr>
                <th scope="row">
                  <kbd>{mac ? '⌘' : 'Ctrl'}</kbd> <kbd>K</kbd>
                </th>
                <td>Go to a page, agent, connection or person</td>
              </tr>
              <tr>
                <th scope="row">
                  <kbd>?</kbd>
                </th>
                <td>This list</td>
              </tr>
              {go.map((s) => (
                <tr key={s.key}>
                  <th scope="row">
                    <kbd>g</kbd> <kbd>{s.key}</kbd>
                  </th>
                  <td>{s.label}</td>
                </tr>
              ))}
              <tr>
                <th scope="row">
                  <kbd>Esc</kbd>
                </th>
                <td>Close a dialog</td>
              </tr>
            </tbody>
          </table>
          <form method="dialog" className="form-actions">
            {/* biome-ignore lint/a11y/noAutofocus: the dialog's one control takes focus as it opens. */}
            <button type="submit" className="btn btn-secondary" autoFocus>
              Close
            </button>
          </form>
        </>
      ) : null}
    </dialog>
  );
}
