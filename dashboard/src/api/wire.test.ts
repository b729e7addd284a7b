/**
 * The dashboard's wire types come from the server's zod schemas (wire.ts), never written by hand.
 * This test asks the TypeScript compiler for every shape the server declares — each route's
 * `response`, `body` and `query` and every schema constant in src/server/schemas.ts and
 * src/server/routes/*.ts, with the objects nested in them — and for every object type written out
 * in dashboard/src (an `interface` or a `{ … }` type). One whose fields are those of a server shape
 * (the same names, or nearly: a copy that has drifted) fails the test, naming both places. Outside
 * dashboard/src/api a shape needs two fields to count: `{ role }` there is a component's props.
 *
 * It reads the compiler through TypeScript 7's `typescript/unstable/sync` API (the version is
 * pinned in package.json); a TypeScript upgrade may need this file adjusted.
 */
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Node, type SourceFile, SyntaxKind } from 'typescript/unstable/ast';
import { API, type Checker, type Type } from 'typescript/unstable/sync';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** An object shape: its field names and where it is written. */
interface Shape {
  fields: ReadonlySet<string>;
  where: string;
}

const API_DIR = 'dashboard/src/api/';

function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  node.forEachChild((child) => {
    walk(child, visit);
  });
}

function place(file: SourceFile, node: Node, what: string): string {
  const line = file.text.slice(0, node.getStart(file)).split('\n').length;
  return `${relative(ROOT, file.fileName)}:${line} ${what}`;
}

/** The object shapes a type holds: itself, array elements, union members, nested fields. */
function objectShapes(checker: Checker, type: Type, where: string, out: Shape[], depth = 0): void {
  if (depth > 5) return;
  if (type.isUnionType()) {
    for (const t of type.getTypes()) objectShapes(checker, t, where, out, depth);
    return;
  }
  if (checker.isArrayType(type) && type.isTypeReference()) {
    for (const t of checker.getTypeArguments(type)) objectShapes(checker, t, where, out, depth + 1);
    return;
  }
  if (!type.isObjectType()) return;
  const fields = checker.getPropertiesOfType(type);
  if (fields.length === 0) return;
  out.push({ fields: new Set(fields.map((f) => f.name)), where });
  for (const f of fields) {
    const t = checker.getTypeOfSymbol(f);
    if (t) objectShapes(checker, t, `${where}.${f.name}`, out, depth + 1);
  }
}

/** What zod says a schema takes (`input`) and gives (`output`), read from its `_zod` member. */
function zodSides(checker: Checker, schema: Type): Type[] {
  const internals = checker.getPropertyOfType(schema, '_zod');
  const types = internals ? checker.getTypeOfSymbol(internals) : undefined;
  if (!types) return [];
  return ['input', 'output'].flatMap((side) => {
    const s = checker.getPropertyOfType(types, side);
    const t = s ? checker.getTypeOfSymbol(s) : undefined;
    return t ? [t] : [];
  });
}

const SCHEMA_PLACES = new Set(['response', 'body', 'query']);

/** Every shape the server's route declarations and schema constants describe. */
function serverShapes(checker: Checker, files: SourceFile[]): Shape[] {
  const shapes: Shape[] = [];
  for (const file of files) {
    const named: { node: Node; where: string }[] = [];
    walk(file, (n) => {
      if (n.kind === SyntaxKind.VariableDeclaration) {
        const name = (n as unknown as { name: Node & { text?: string } }).name;
        if (name.text) named.push({ node: name, where: place(file, n, name.text) });
      } else if (n.kind === SyntaxKind.PropertyAssignment) {
        const p = n as unknown as { name: { text?: string }; initializer: Node };
        if (p.name.text && SCHEMA_PLACES.has(p.name.text))
          named.push({ node: p.initializer, where: place(file, n, p.name.text) });
      }
    });
    const types = checker.getTypeAtLocation(named.map((n) => n.node));
    named.forEach(({ where }, i) => {
      const type = types[i];
      if (type) for (const side of zodSides(checker, type)) objectShapes(checker, side, where, shapes);
    });
  }
  return shapes;
}

/** Every object type written out in the dashboard's code: interfaces and `{ … }` type literals. */
function dashboardShapes(files: SourceFile[]): Shape[] {
  const shapes: Shape[] = [];
  for (const file of files) {
    walk(file, (n) => {
      if (n.kind !== SyntaxKind.InterfaceDeclaration && n.kind !== SyntaxKind.TypeLiteral) return;
      const { members, name } = n as unknown as {
        members: readonly { name?: { text?: string } }[];
        name?: { text?: string };
      };
      const fields = new Set(members.flatMap((m) => (m.name?.text ? [m.name.text] : [])));
      if (fields.size > 0)
        shapes.push({ fields, where: place(file, n, name?.text ? `interface ${name.text}` : 'type {…}') });
    });
  }
  return shapes;
}

/** The same fields, or a copy that has drifted: three or more shared and at most a quarter differing. */
function copies(mine: ReadonlySet<string>, theirs: ReadonlySet<string>): boolean {
  const shared = [...mine].filter((f) => theirs.has(f)).length;
  if (shared === mine.size && shared === theirs.size) return true;
  return shared >= 3 && shared / (mine.size + theirs.size - shared) >= 0.75;
}

export function handWrittenWireTypes(): string[] {
  const api = new API({ cwd: ROOT });
  try {
    const project = api.updateSnapshot({ openProjects: [`${ROOT}tsconfig.json`] }).getProjects()[0];
    assert.ok(project, 'the TypeScript project opens');
    const files = project.program
      .getSourceFileNames()
      .filter((f) => !f.endsWith('.test.ts'))
      .map((f) => relative(ROOT, f));
    const source = (pick: (f: string) => boolean) =>
      files.filter(pick).map((f) => project.program.getSourceFile(`${ROOT}${f}`)!);
    const server = serverShapes(
      project.checker,
      source((f) => f === 'src/server/schemas.ts' || /^src\/server\/routes\/[^/]+\.ts$/.test(f)),
    );
    assert.ok(server.length > 50, `the server's shapes are found (${server.length})`);
    const found: string[] = [];
    for (const mine of dashboardShapes(source((f) => f.startsWith('dashboard/src/')))) {
      if (mine.fields.size < 2 && !mine.where.startsWith(API_DIR)) continue;
      const theirs = server.find((s) => copies(mine.fields, s.fields));
      if (theirs)
        found.push(
          `${mine.where} {${[...mine.fields].join(', ')}} copies ${theirs.where}: derive it in wire.ts`,
        );
    }
    return found;
  } finally {
    api.close();
  }
}

test('no dashboard type is a hand-written copy of a shape the server declares', () => {
  assert.deepEqual(handWrittenWireTypes(), []);
});
