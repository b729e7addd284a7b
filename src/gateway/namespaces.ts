/**
 * Which connection a namespace names (`<namespace>__<tool>`), per org, kept in memory so a call
 * reads no table to find it. A namespace not known is read afresh (a connection added since);
 * an org's map is dropped when one of its connections is deleted or changed (the stop bus tells
 * every replica), and every map when events may have been missed (catch-up).
 */
import { connectionNamespaces } from '../policy/permissions.ts';
import type { Db } from '../store/index.ts';

export class Namespaces {
  readonly #db: Db;
  readonly #byOrg = new Map<string, Map<string, string>>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** The id of the org's connection named `namespace`, if any. */
  async connectionOf(orgId: string, namespace: string): Promise<string | undefined> {
    const known = this.#byOrg.get(orgId)?.get(namespace);
    if (known) return known;
    const read = new Map<string, string>();
    for (const [id, ns] of await connectionNamespaces(this.#db, orgId)) read.set(ns, id);
    this.#byOrg.set(orgId, read);
    return read.get(namespace);
  }

  /** The namespace the org's connection is known by, if it has that connection. */
  async namespaceOf(orgId: string, connectionId: string): Promise<string | undefined> {
    const find = () => {
      for (const [ns, id] of this.#byOrg.get(orgId) ?? []) if (id === connectionId) return ns;
      return undefined;
    };
    const known = find();
    if (known !== undefined) return known;
    // Not known yet (or added since): the org's are read afresh, once.
    this.#byOrg.delete(orgId);
    await this.connectionOf(orgId, '');
    return find();
  }

  /** Forgets an org's namespaces (a connection of it deleted or changed), or every org's. */
  forget(orgId?: string): void {
    if (orgId === undefined) this.#byOrg.clear();
    else this.#byOrg.delete(orgId);
  }
}
