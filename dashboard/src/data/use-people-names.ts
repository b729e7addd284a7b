/** People's names in place of their ids. */
import { api } from '../api/index.ts';
import { useLoad } from './use-load.ts';

/** The org's people, for names instead of ids: "You" for `meId`, the id itself when unknown. */
export function usePeopleNames(
  slug: string,
  meId?: string,
): { name: (id: string | null | undefined) => string; error: string | null } {
  const people = useLoad(() => api.people(slug), slug);
  const byId = new Map((people.data ?? []).map((p) => [p.id, p]));
  return {
    name: (id) => {
      if (!id) return '—';
      if (id === meId) return 'You';
      const p = byId.get(id);
      return p ? p.name || p.email : id;
    },
    error: people.error,
  };
}
