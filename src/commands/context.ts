/** What every command module gets: a way to build the factory from the parsed global flags. */
import type { Argv, CommandModule } from 'yargs';
import type { Factory } from './factory.ts';

export interface GlobalArgs {
  profile?: string;
  allowInsecureHttp?: boolean;
  timeout?: number;
  retries?: number;
}

export interface CliContext {
  factory(argv: GlobalArgs): Factory;
}

/** A command module whose handler gets the parsed flags of type A. */
export type Command<A> = CommandModule<object, A>;
export type { Argv };

/** Splits `a,b , c` lists given once or repeated. */
export function listArg(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  const out = parts.map((s) => s.trim()).filter(Boolean);
  return out.length > 0 ? out : undefined;
}
