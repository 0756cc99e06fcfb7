/**
 * Where things are in a JSON text: JSON.parse does the parsing, but says nothing
 * about where a value came from. These helpers map offsets to lines, find where
 * the top-level values start, and locate a syntax error as well as V8 lets us.
 */

/** Maps offsets in `text` to 1-based lines and columns. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** 1-based line of `offset`. */
  line(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** 1-based column of `offset` (in UTF-16 code units). */
  column(offset: number): number {
    return offset - this.starts[this.line(offset) - 1]! + 1;
  }
}

export interface RootMember {
  /** Offset where the member's value starts. */
  start: number;
  /** Offsets where the elements start, when the value is an array. */
  items: number[];
}

export interface JsonLayout {
  /** Offset where the root value starts. */
  root: number;
  /** Offsets where the elements of the root array start (empty unless the root is an array). */
  rootItems: number[];
  /** The members of the root object by key (as JSON.parse decodes it); the last of a repeated key wins, as in JSON.parse. */
  rootMembers: Map<string, RootMember>;
}

interface Frame {
  array: boolean;
  /** In an object: the next string is a key. */
  expectKey: boolean;
  key?: string;
  /** Where to record the start of each element, for the arrays whose elements we track. */
  items?: number[];
}


/** The offset just past the string literal starting at `start` (an opening quote). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return text.length;
    // The quote is escaped when an odd number of backslashes precede it.
    let b = q - 1;
    while (b > start && text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * The layout of a text JSON.parse accepted: where the root value starts, and the
 * elements of the root array or of the arrays that are members of the root object.
 * Walks the text once without recursion, so deep nesting is no problem.
 */
export function scanLayout(text: string): JsonLayout {
  const layout: JsonLayout = { root: -1, rootItems: [], rootMembers: new Map() };
  const stack: Frame[] = [];

  /** A value starts at `pos`; returns the items list a container starting there should fill, if any. */
  const valueAt = (pos: number): number[] | undefined => {
    const top = stack[stack.length - 1];
    if (!top) {
      layout.root = pos;
      return layout.rootItems;
    }
    top.items?.push(pos);
    if (stack.length === 1 && !top.array) {
      const member: RootMember = { start: pos, items: [] };
      layout.rootMembers.set(top.key ?? '', member);
      return member.items;
    }
    return undefined;
  };

  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a /* : */) {
      i++;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top && !top.array) top.expectKey = true;
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        // Only the root object's keys name anything we record; deeper keys are skipped unread.
        if (stack.length === 1) top.key = JSON.parse(text.slice(i, end)) as string;
        top.expectKey = false;
      } else {
        valueAt(i);
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const items = valueAt(i);
      const array = c === 0x5b;
      stack.push({ array, expectKey: !array, items: array ? items : undefined });
      i++;
    } else {
      // A number or a literal: runs to the next delimiter.
      valueAt(i);
      for (let d = text.charCodeAt(i); i < n && d !== 0x2c && d !== 0x5d && d !== 0x7d && d !== 0x20 && d !== 0x0a && d !== 0x0d && d !== 0x09; d = text.charCodeAt(++i));
    }
  }
  return layout;
}

export interface JsonSyntaxError {
  /** Offset of the error in the text. */
  offset: number;
  /** V8's description, without the position and the quoted text. */
  reason: string;
}

const POSITION = / in JSON at position (\d+)/;
const LINE_COLUMN = / \(line (\d+) column (\d+)\)/;

function offsetOf(text: string, message: string): number | undefined {
  const pos = POSITION.exec(message);
  if (pos) return Number(pos[1]);
  const lc = LINE_COLUMN.exec(message); // newer V8: "... in JSON at position 7 (line 1 column 8)"
  if (lc) {
    let start = 0;
    for (let l = 1; l < Number(lc[1]); l++) start = text.indexOf('\n', start) + 1;
    return start + Number(lc[2]) - 1;
  }
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  return undefined;
}

/** Could `prefix` be the start of a JSON text? (It parses, or fails only for ending too soon.) */
function viablePrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/Unexpected end of JSON input/.test(message)) return true;
    const pos = POSITION.exec(message);
    return pos !== null && Number(pos[1]) >= prefix.length;
  }
}

/** Where and why JSON.parse rejected `text` (given the error it threw). */
export function locateSyntaxError(text: string, error: unknown): JsonSyntaxError {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message
    .replace(POSITION, '')
    .replace(LINE_COLUMN, '')
    .replace(/^(Unexpected token '[^']*'), .* is not valid JSON$/s, '$1');
  let offset = offsetOf(text, message);
  if (offset === undefined) {
    // Some messages ("Unexpected token 'x', "…" is not valid JSON") carry no position: find the
    // shortest prefix that no longer parses as the start of a JSON text; the error is its last character.
    let lo = 0;
    let hi = text.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (viablePrefix(text.slice(0, mid))) lo = mid;
      else hi = mid;
    }
    offset = hi - 1;
  }
  // An error at the very end (the text stopped too soon) is shown after the last character, not on trailing blank lines.
  return { offset: Math.max(0, Math.min(offset, text.trimEnd().length)), reason };
}
