/** The parts of npm's own libraries that Paddock uses (they ship no types of their own). */

declare module 'npm-package-arg' {
  interface Result {
    type: 'git' | 'tag' | 'version' | 'range' | 'file' | 'directory' | 'remote' | 'alias';
    name: string | null;
    rawSpec: string;
    fetchSpec: string | null;
  }
  function npa(spec: string): Result;
  export default npa;
}

declare module '@npmcli/arborist' {
  interface ArboristNode {
    name: string;
    version: string;
    /** Where it is, relative to the root (`node_modules/a/node_modules/b`). */
    location: string;
    path: string;
    resolved: string | null;
    integrity: string | null;
    isRoot: boolean;
    isLink: boolean;
    inBundle: boolean;
    package: Record<string, unknown> & { bin?: Record<string, string> };
    children: Map<string, ArboristNode>;
    inventory: Map<string, ArboristNode>;
  }
  interface ArboristOptions {
    path: string;
    registry: string;
    cache: string;
    ignoreScripts: boolean;
    audit: boolean;
    fund: boolean;
    binLinks: boolean;
    save: boolean;
    packumentCache?: Map<string, unknown>;
  }
  class Arborist {
    constructor(options: ArboristOptions);
    buildIdealTree(): Promise<ArboristNode>;
    reify(): Promise<ArboristNode>;
  }
  export default Arborist;
  export type { ArboristNode };
}
