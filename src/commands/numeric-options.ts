/**
 * Numeric options are checked once, for every command, while the command line is parsed:
 * before any profile, source, plan or target is read. A bad value is a usage error (exit 2)
 * that names the option; yargs alone would hand a command NaN for `--concurrency abc`.
 */
import { parseRate } from '../api/executor.ts';
import { checkLimitSpec } from '../sync/safety.ts';
import { parseSize } from '../util/size.ts';

type Rule = (value: unknown) => string | undefined;

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Rule =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? undefined
      : `takes a whole number${max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`}`;

const positive: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0
    ? undefined
    : 'takes a number of seconds above 0 (e.g. 30 or 2.5)';

const limit =
  (flag: string): Rule =>
  (v) => {
    try {
      checkLimitSpec(flag, String(v));
      return undefined;
    } catch {
      return 'takes a count or a percentage up to 100% (e.g. 25 or 10%)';
    }
  };

const size: Rule = (v) => {
  try {
    parseSize(String(v));
    return undefined;
  } catch {
    return 'takes a size above 0 (e.g. 256KB, 1MB or a number of bytes)';
  }
};

const rate: Rule = (v) => {
  try {
    parseRate(String(v));
    return undefined;
  } catch {
    return 'takes a rate above 0 (e.g. 600/min, 10/s, 1000/h)';
  }
};

/**
 * Options by their name on the command line; each is checked only where a command has it.
 * A number option (yargs `type: 'number'`) is checked only when yargs made a number of it:
 * another command may have an option of the same name that is not a number (`demo --users 500`
 * is a count, `users deactivate --users a,b` a list).
 */
const RULES: Record<string, { number: boolean; rule: Rule }> = {
  timeout: { number: true, rule: positive },
  retries: { number: true, rule: integer(0, 100) },
  concurrency: { number: true, rule: integer(1, 1000) },
  limit: { number: true, rule: integer(0) },
  'keep-runs': { number: true, rule: integer(1) },
  port: { number: true, rule: integer(0, 65535) },
  users: { number: true, rule: integer(0) },
  'seed-users': { number: true, rule: integer(0) },
  'seed-groups': { number: true, rule: integer(0) },
  'report-timeout': { number: true, rule: positive },
  rate: { number: false, rule: rate },
  'avatar-max': { number: false, rule: size },
  'max-deletes': { number: false, rule: limit('--max-deletes') },
  'max-membership-removals': { number: false, rule: limit('--max-membership-removals') },
  'max-group-deletes': { number: false, rule: limit('--max-group-deletes') },
};

/**
 * What was typed after `--name` (or in `--name=value`), for messages: yargs keeps NaN of a number option, not the text.
 */
function typed(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i]!.startsWith(`--${name}=`)) return args[i]!.slice(name.length + 3);
  }
  return undefined;
}

/** The first bad numeric option in parsed arguments, as a message naming it; undefined when all are good. */
export function numericOptionProblem(argv: Record<string, unknown>, args: readonly string[] = []): string | undefined {
  for (const [name, { number, rule }] of Object.entries(RULES)) {
    if (!(name in argv) || argv[name] === undefined) continue;
    const value = argv[name];
    const values = Array.isArray(value) ? value : [value];
    // Not this command's number option: someone else's option of the same name (an empty list
    // is a list positional given no values: `users deactivate --from FILE`).
    if (number && (values.length === 0 || !values.every((v) => typeof v === 'number'))) continue;
    if (Array.isArray(value)) return `--${name} is given ${value.length} times; give it once`;
    const problem = rule(value);
    if (!problem) continue;
    const text = typeof value === 'number' && Number.isNaN(value) ? typed(args, name) : String(value);
    return `--${name} ${problem}, not ${text === undefined ? 'a value that is not a number' : JSON.stringify(text)}`;
  }
  return undefined;
}
