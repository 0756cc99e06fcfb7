/**
 * Prompts as promise-returning functions, so commands never touch the terminal
 * themselves. Where there is no terminal to ask on, a prompt is an error that
 * names the flag to pass instead: scripts never hang on a question.
 */
import { createInterface } from 'node:readline/promises';
import type { IOStreams } from './iostreams.ts';
import { safeText } from './safe-text.ts';
import { CallerError } from '../util/errors.ts';

export class PromptUnavailableError extends CallerError {
  constructor(
    readonly flag: string,
    what: string,
  ) {
    super(`${what}: there is no terminal to ask for confirmation on; pass ${flag} to go ahead`);
    this.name = 'PromptUnavailableError';
  }
}

/**
 * Asks the admin to type `expected` (e.g. "yes") to go ahead. Resolves true
 * only for that exact answer.
 */
export async function confirmTyped(
  io: IOStreams,
  question: string,
  options: { expected?: string; flag: string; what: string },
): Promise<boolean> {
  if (!io.canPrompt) throw new PromptUnavailableError(options.flag, options.what);
  const expected = options.expected ?? 'yes';
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    const answer = await rl.question(`${safeText(question)} Type "${expected}" to continue: `);
    return answer.trim() === expected;
  } finally {
    rl.close();
  }
}
