/**
 * Shell completion's candidates: `scimctl __complete WORD… CURRENT` prints, one a line, what CURRENT (the word being
 * typed, possibly empty) may become after the words before it. The completion scripts (completion.ts) call it on each
 * Tab, so new profiles complete without regenerating a script.
 *
 * The command tree is read from the commands' own registrations: each part's yargs builders run against a recorder
 * that notes commands, options and positionals (and ignores the rest), so what completes is what parses, with no
 * list to keep in step. Only the part the words name is loaded, as for a command line.
 */
import type { CommandModule, Options, PositionalOptions } from 'yargs';
import type { Env } from '../config/env.ts';
import { writeChunk, type IOStreams } from '../output/iostreams.ts';
import { GLOBAL_OPTIONS, type CliContext } from './context.ts';
import { topCommands } from './index.ts';

interface OptionFacts {
  name: string;
  takesValue: boolean;
  choices?: readonly string[];
  /** `--no-NAME` completes too (a boolean on by default, or one that says so). */
  negatable: boolean;
}

interface CommandNode {
  /** The command words leading here (`['sync', 'plan']`). */
  path: string[];
  /** By long name and by alias. */
  options: Map<string, OptionFacts>;
  positionals: Array<{ name: string; choices?: readonly string[] }>;
  children: Map<string, () => Promise<CommandNode>>;
}

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function optionFacts(name: string, o: Options): OptionFacts {
  const boolean = o.type === 'boolean' || o.boolean === true;
  return {
    name,
    takesValue: !boolean && o.type !== 'count',
    ...(o.choices !== undefined ? { choices: asList(o.choices) } : {}),
    negatable:
      boolean && (o.default === true || (typeof o.describe === 'string' && o.describe.includes(`--no-${name}`))),
  };
}

function addOption(options: Map<string, OptionFacts>, name: string, o: Options): void {
  if (o.hidden) return;
  const facts = optionFacts(name, o);
  options.set(name, facts);
  for (const alias of asList(o.alias)) options.set(alias, facts);
}

/** What a builder registers, as far as completion cares. */
interface Recorded {
  options: Map<string, OptionFacts>;
  positionals: Map<string, PositionalOptions>;
  commands: CommandModule[];
}

/** A stand-in for yargs' Argv that records commands, options and positionals; every other call is let through. */
function recorder(): { y: never; recorded: Recorded } {
  const recorded: Recorded = { options: new Map(), positionals: new Map(), commands: [] };
  const y: object = new Proxy(
    {},
    {
      get: (_target, method) => {
        if (method === 'then') return undefined;
        return (...args: unknown[]) => {
          if (method === 'command' && typeof args[0] === 'object' && args[0] !== null)
            recorded.commands.push(args[0] as CommandModule);
          else if (method === 'option' && typeof args[0] === 'string')
            addOption(recorded.options, args[0], (args[1] ?? {}) as Options);
          else if (method === 'options' && typeof args[0] === 'object' && args[0] !== null)
            for (const [name, o] of Object.entries(args[0] as Record<string, Options>))
              addOption(recorded.options, name, o);
          else if (method === 'positional' && typeof args[0] === 'string')
            recorded.positionals.set(args[0], (args[1] ?? {}) as PositionalOptions);
          return y;
        };
      },
    },
  );
  return { y: y as never, recorded };
}

/** Builders never build a factory (only handlers do): one that is asked for is a mistake. */
const NO_CONTEXT: CliContext = {
  factory: () => {
    throw new Error('completion runs no command');
  },
};

/** `get <user>` → name `get`, positionals `user`; `delete [users..]` → `users`. */
function parseCommand(command: string): { name: string; positionals: string[] } {
  const [name = '', ...rest] = command.trim().split(/\s+/);
  return { name, positionals: rest.map((w) => w.replace(/^[<[]|(?:\.\.)?[>\]]$/g, '')) };
}

function nodeOf(module: CommandModule, parent: string[]): CommandNode {
  const { name, positionals } = parseCommand(String(module.command ?? ''));
  const { y, recorded } = recorder();
  if (typeof module.builder === 'function') (module.builder as (y: never) => unknown)(y);
  else if (module.builder)
    for (const [option, o] of Object.entries(module.builder)) addOption(recorded.options, option, o as Options);
  return {
    path: [...parent, name],
    options: recorded.options,
    positionals: positionals.map((p) => ({ name: p, choices: asList(recorded.positionals.get(p)?.choices) })),
    children: childrenOf(recorded.commands, [...parent, name]),
  };
}

function childrenOf(modules: readonly CommandModule[], path: string[]): CommandNode['children'] {
  const children: CommandNode['children'] = new Map();
  for (const m of modules) {
    if (m.describe === false) continue;
    const node = nodeOf(m, path);
    children.set(node.path.at(-1)!, () => Promise.resolve(node));
  }
  return children;
}

/** The top level: the global options, and each top-level command, loaded when the words name it. */
function root(): CommandNode {
  const options = new Map<string, OptionFacts>();
  for (const [name, o] of Object.entries(GLOBAL_OPTIONS)) addOption(options, name, o);
  addOption(options, 'help', { type: 'boolean', alias: 'h' });
  addOption(options, 'version', { type: 'boolean' });
  const children: CommandNode['children'] = new Map();
  for (const t of topCommands()) {
    const { name, positionals } = parseCommand(t.command);
    children.set(name, async () => {
      const part = await t.load();
      const { y, recorded } = recorder();
      if ('leaf' in part) {
        part.leaf(y, NO_CONTEXT);
        const module = recorded.commands[0];
        if (module) return nodeOf(module, []);
      } else part.group(y, NO_CONTEXT);
      return {
        path: [name],
        options: new Map(),
        positionals: positionals.map((p) => ({ name: p })),
        children: childrenOf(recorded.commands, [name]),
      };
    });
  }
  return { path: [], options, positionals: [], children };
}

/** A positional that names a profile: `profile use NAME` and the like (not `profile add`, which makes one). */
const namesProfile = (node: CommandNode, positional: string | undefined) =>
  node.path[0] === 'profile' && node.path[1] !== 'add' && positional === 'name';

/**
 * The candidates for the last word of `words` (what is being typed; '' for a new word), each starting with it.
 * `profiles` lists the profile names (read only when a profile name is wanted). Nothing is a hint to the shell to
 * complete file names.
 */
export async function completions(words: readonly string[], profiles: () => Promise<string[]>): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const start = root();
  let node = start;
  let scope = new Map([...start.options]);
  let used = 0;
  let valueOf: OptionFacts | undefined;
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    if (w === '--') {
      used += before.length - i - 1;
      break;
    }
    if (w.startsWith('-') && w !== '-') {
      const facts = scope.get(w.replace(/^--?/, '').split('=')[0]!);
      if (facts?.takesValue && !w.includes('=')) {
        if (i + 1 === before.length) valueOf = facts;
        i++;
      }
      continue;
    }
    const child = used === 0 ? node.children.get(w) : undefined;
    if (child) {
      node = await child();
      scope = new Map([...start.options, ...node.options]);
    } else used++;
  }

  const starting = (list: Iterable<string>) => [...new Set(list)].filter((c) => c.startsWith(current));
  const valuesOf = async (facts: OptionFacts) =>
    facts.name === 'profile' ? await profiles() : [...(facts.choices ?? [])];
  if (valueOf) return starting(await valuesOf(valueOf));

  const eq = /^--([^=]+)=/.exec(current);
  if (eq) {
    const facts = scope.get(eq[1]!);
    return facts ? starting((await valuesOf(facts)).map((v) => `--${eq[1]}=${v}`)) : [];
  }
  if (current.startsWith('-')) {
    const names: string[] = [];
    for (const facts of scope.values()) {
      names.push(`--${facts.name}`);
      if (facts.negatable) names.push(`--no-${facts.name}`);
    }
    return starting(names.sort());
  }
  if (used === 0 && node.children.size > 0) return starting(node.children.keys());
  const positional = node.positionals[used];
  if (namesProfile(node, positional?.name)) return starting(await profiles());
  return starting(positional?.choices ?? []);
}

/** `scimctl __complete WORD…`: the candidates on stdout, one a line; nothing (not an error) when there are none. */
export async function writeCompletions(words: readonly string[], io: IOStreams, env: Env): Promise<void> {
  const profiles = async () => {
    try {
      const { ProfileStore } = await import('../config/profiles.ts');
      return (await ProfileStore.open(env.SCIMCTL_CONFIG_DIR)).list().map(([name]) => name);
    } catch {
      return [];
    }
  };
  let found: string[] = [];
  try {
    found = await completions(words.length > 0 ? words : [''], profiles);
  } catch {
    // A Tab press never prints an error into the command line being typed.
  }
  if (found.length > 0) await writeChunk(io.stdout, `${found.join('\n')}\n`);
}
