/** A list page's row actions (delete, revoke): notice, call, reload, the same on every page. */
import { useCallback, useState } from 'react';
import { useAction } from './use-action.ts';

/**
 * A list page's row actions (delete, revoke) and what they report, the same steps on every such
 * page: `act` clears the last notice, makes the call, shows the message it returns, then reloads.
 * A failed call shows in `error`; `setNotice` reports changes made elsewhere (an added row).
 */
export function useListAction(): {
  notice: string | null;
  setNotice: (message: string | null) => void;
  error: string | null;
  act: (call: () => Promise<string>, reload: () => Promise<unknown>) => Promise<void>;
} {
  const { error, run } = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const act = useCallback(
    async (call: () => Promise<string>, reload: () => Promise<unknown>) => {
      setNotice(null);
      await run(async () => {
        setNotice(await call());
        await reload();
      });
    },
    [run],
  );
  return { notice, setNotice, error, act };
}
