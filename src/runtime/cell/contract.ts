/**
 * The output contract inside the cell: an agent with an output schema answers through the AI
 * SDK's structured output (the provider is given the schema; the answer is parsed and validated
 * with Ajv). An answer that does not hold is shown to the model once, with why; a second one that
 * does not hold fails the run. The control plane judges the reported answer again (see checks).
 */
import type { JSONSchema7, ModelMessage } from 'ai';
import { judgeOutput, mismatch } from '../../checks/index.ts';

export interface OutputContract {
  /** What `streamText` is given as `output`. */
  output: unknown;
  /** Why the answer does not hold (null when it does). */
  judge(result: { output: PromiseLike<unknown>; text: PromiseLike<string> }): Promise<string | null>;
  /** The message that gives the model its one more try. */
  retry(why: string): ModelMessage;
}

export async function outputContract(schema: Record<string, unknown>): Promise<OutputContract> {
  const { Output, jsonSchema, NoObjectGeneratedError } = await import('ai');
  const validate = (value: unknown) => {
    const why = mismatch(schema, value);
    return why === null
      ? { success: true as const, value }
      : { success: false as const, error: new Error(why) };
  };
  return {
    output: Output.object({ schema: jsonSchema(schema as JSONSchema7, { validate }) }),
    async judge(result) {
      try {
        await result.output;
        return null;
      } catch (err) {
        if (!NoObjectGeneratedError.isInstance(err)) throw err;
        // Said the way Paddock says it everywhere (the SDK's message wraps the whole answer).
        const judged = judgeOutput(schema, await result.text);
        return judged.ok ? err.message : judged.why;
      }
    },
    retry: (why) => ({
      role: 'user',
      // The runtime's words, not the person's: a conversation read back leaves them out.
      providerOptions: { paddock: { retry: true } },
      content: `Your answer does not match the required output schema (${why}). Answer again with only a JSON value that matches the schema.`,
    }),
  };
}
