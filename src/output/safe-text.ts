/**
 * Text from a server or a file, made safe to print: the one place where control characters
 * are escaped, for every terminal path (tables, detail views, plans, the TUI, error messages
 * and log lines) and the tab-separated form of pipes.
 *
 * - C0 controls, DEL and C1 controls (U+0080–U+009F) are written as visible escapes: `\t`, `\n`,
 *   `\r`, and `\xHH` for the rest (ESC is `\x1b`), so an ANSI or OSC sequence in a value shows
 *   as text instead of recolouring, retitling or clearing the terminal. The line and paragraph
 *   separators U+2028/U+2029 are written `\u2028`/`\u2029`.
 * - Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
 *   reorder the rest of a line, are shown as `<U+202E>`.
 * - With `marks` (plans, which are reviewed before anything changes), the invisible ones are
 *   shown too: zero-width characters (U+200B–U+200D, U+2060, U+FEFF, U+180E), the soft hyphen
 *   and the bidi marks (U+200E, U+200F, U+061C). Elsewhere they are left alone: joiners are part
 *   of emoji and of several scripts.
 *
 * Backslashes are not doubled: the escapes are for people, `--json` gives the exact values.
 */

const ALWAYS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const ALWAYS_ALL = new RegExp(ALWAYS.source, 'g');
const MARKED =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u00ad\u180e\u200b-\u200f\u2060\ufeff]/;
const MARKED_ALL = new RegExp(MARKED.source, 'g');

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  if (code <= 0x9f) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code === 0x2028 || code === 0x2029) return `\\u${code.toString(16)}`;
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

export interface SafeTextOptions {
  /** Also mark zero-width characters and bidi marks (plans). */
  marks?: boolean;
}

/** `text` with every control character escaped visibly (see above); unchanged when there is none. */
export function safeText(text: string, options: SafeTextOptions = {}): string {
  const [test, all] = options.marks ? [MARKED, MARKED_ALL] : [ALWAYS, ALWAYS_ALL];
  return test.test(text) ? text.replace(all, escapeOne) : text;
}

/** Several lines (a message with newlines of its own): each line made safe, the newlines kept. */
export function safeLines(text: string, options: SafeTextOptions = {}): string {
  return text
    .split('\n')
    .map((line) => safeText(line, options))
    .join('\n');
}
