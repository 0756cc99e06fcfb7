/**
 * The base classes of errors whose kind decides how scimctl ends (the exit code:
 * src/commands/exit-codes.ts maps each base class to one). They live here, outside
 * the commands, so that the core's errors (file readers, configuration, plan files,
 * prompts) can extend them: an error's exit code then follows its class, never its name.
 */

/**
 * Something to fix in how scimctl was called or in what it was given: flags, an input or
 * plan file, configuration, a confirmation needed where there is no terminal (exit 2).
 */
export class CallerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallerError';
  }
}

/** Credentials refused: a directory's bind, a token a server turned down (exit 4). */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}
