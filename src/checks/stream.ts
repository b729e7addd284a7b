/**
 * A run's stream, held to its agent's output contract and checks. Text already streamed cannot
 * be called back, so text streams only once the checks cleared it:
 *
 * - `hold_back`: each text part stays `holdBackChars` behind the model. Held text is scanned as
 *   it grows; text leaves the window only when no match could still reach into it (a match that
 *   crosses the window's edge holds the window at its start), redacted where a redacting check
 *   matched. A blocking match ends the text stream: nothing more of the answer streams.
 * - `final` (and any agent with an output schema, whose answer is judged whole): no text streams;
 *   the answer, once checked and validated, is sent as one text part at the end.
 *
 * A match longer than the window can have its beginning streamed before it is whole; the answer
 * stored and returned is checked whole either way. Tool inputs and outputs shown in the stream
 * have every match redacted.
 */
import type { UIMessageChunk } from 'ai';
import type { CheckSet, Scanner } from './scan.ts';
import { applyToValue, redaction } from './scan.ts';

type Chunk = UIMessageChunk;
type Loose = Record<string, unknown>;

const TEXT = new Set([
  'text-start',
  'text-delta',
  'text-end',
  'reasoning-start',
  'reasoning-delta',
  'reasoning-end',
]);

export class StreamGuard {
  readonly #scanner: Scanner | null;
  readonly #mode: 'pass' | 'hold_back' | 'final';
  readonly #window: number;
  /** Held text by part id, not yet streamed. */
  readonly #held = new Map<string, string>();
  #blocked = false;
  #finish: Chunk | null = null;

  constructor(checks: CheckSet | null, hasSchema: boolean) {
    this.#scanner = checks?.output ?? null;
    this.#window = checks?.settings.holdBackChars ?? 256;
    this.#mode =
      hasSchema || (this.#scanner && checks?.settings.streaming === 'final')
        ? 'final'
        : this.#scanner
          ? 'hold_back'
          : 'pass';
  }

  /** Whether the stream is changed at all (an agent without output checks or schema: no). */
  get guards(): boolean {
    return this.#mode !== 'pass';
  }

  /** What to stream for one chunk the cell sent. */
  push(chunk: Chunk): Chunk[] {
    if (this.#mode === 'pass') return [chunk];
    const c = chunk as Chunk & Loose;
    if (c.type === 'finish') {
      // Held until the end, so that the checked answer (in `final`) comes before it.
      this.#finish = chunk;
      return [];
    }
    if (TEXT.has(c.type)) return this.#mode === 'final' ? [] : this.#text(c);
    if (c.type === 'tool-input-delta') return []; // its whole input follows, checked
    return [this.#masked(c)];
  }

  /**
   * What closes the stream at the run's end: in `final`, the answer (checked and validated, or
   * null when it was withheld or the run did not complete); then the held `finish`.
   */
  end(answer: string | null): Chunk[] {
    const out: Chunk[] = [];
    if (this.#mode === 'final' && answer !== null && answer !== '') {
      out.push(
        { type: 'text-start', id: 'answer' },
        { type: 'text-delta', id: 'answer', delta: answer },
        { type: 'text-end', id: 'answer' },
      );
    }
    this.#held.clear();
    if (this.#finish) out.push(this.#finish);
    this.#finish = null;
    return out;
  }

  #text(c: Chunk & Loose): Chunk[] {
    const id = String(c.id);
    const delta = c.type.endsWith('-delta');
    const ended = c.type.endsWith('-end');
    if (c.type.endsWith('-start')) {
      this.#held.set(id, '');
      return [c];
    }
    if (this.#blocked) return ended ? [c] : [];
    const held = (this.#held.get(id) ?? '') + (delta ? String(c.delta ?? '') : '');
    const findings = this.#scanner!.scan(held);
    if (findings.some((f) => f.action === 'block')) {
      this.#blocked = true;
      this.#held.delete(id);
      return ended ? [c] : [];
    }
    // Stream up to the window's edge, or to the start of a match that crosses it.
    let cut = ended ? held.length : Math.max(0, held.length - this.#window);
    for (const f of findings) if (f.start < cut && f.end > cut) cut = Math.min(cut, f.start);
    let out = '';
    let at = 0;
    for (const f of findings) {
      if (f.start >= cut) break;
      if (f.end <= at) continue;
      out += held.slice(at, Math.max(at, f.start)) + redaction(f.check);
      at = f.end;
    }
    out += held.slice(at, cut);
    this.#held.set(id, held.slice(cut));
    const chunks: Chunk[] = [];
    if (out) chunks.push({ ...c, type: c.type.replace(/-(end|delta)$/, '-delta'), delta: out } as Chunk);
    if (ended) {
      this.#held.delete(id);
      chunks.push(c);
    }
    return chunks;
  }

  /** A tool's input or output, or an error's words, with every match redacted. */
  #masked(c: Chunk & Loose): Chunk {
    const scanner = this.#scanner;
    if (!scanner) return c;
    const out: Loose = { ...c };
    for (const field of ['input', 'output', 'errorText'] as const) {
      if (field in c) out[field] = applyToValue(scanner, c[field]).value;
    }
    return out as Chunk;
  }
}
