/**
 * Where things are in a JSON text: JSON.parse does the parsing, but says nothing
 * about where a value came from. These helpers map offsets to lines, find where
 * the top-level values start, and locate a syntax error as well as V8 lets us.
 */
import { MAX_VALUE_BYTES } from '../formats/scim-csv.ts';

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
  /**
   * The members of the root object by key (as JSON.parse decodes it); the last of a repeated key wins, as in
   * JSON.parse.
   */
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
      for (
        let d = text.charCodeAt(i);
        i < n && d !== 0x2c && d !== 0x5d && d !== 0x7d && d !== 0x20 && d !== 0x0a && d !== 0x0d && d !== 0x09;
        d = text.charCodeAt(++i)
      );
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
  // An error at the very end (the text stopped too soon) is shown after the last character, not on trailing blank
  // lines.
  return { offset: Math.max(0, Math.min(offset, text.trimEnd().length)), reason };
}

/** One element of the list of records of a JSON text: its text and the line it starts on. */
export interface JsonListItem {
  text: string;
  /** 1-based line where the element starts. */
  line: number;
  /** Where the element starts in the text as UTF-8 bytes (its length there: Buffer.byteLength(text)). */
  byteOffset: number;
}

/**
 * Finds the records of a JSON text that arrives in pieces: the elements of the root array,
 * or of the array under the root object's "Resources" key (in any case). Each element is
 * handed over, as text with its line, as soon as it is complete, so the whole text never
 * has to be held at once. It follows the structure only (strings, nesting, the commas
 * between elements); each element's text is for JSON.parse to check, and `end` checks
 * what lies outside the list.
 *
 * Only those plain shapes are followed: anything else (an element that is not an object,
 * an empty list, a root object without a list of resources, a repeated "Resources", text
 * after the root value, a syntax error that shows in the structure) sets `failed`, and
 * the caller reads the text whole instead, where every problem is described.
 */
export class JsonListSplitter {
  /** The text is not of a shape followed here: read it whole. */
  failed = false;
  private line = 1;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private phase: 'start' | 'root' | 'list' | 'item' | 'end' = 'start';
  private rootArray = false;
  private listDepth = 0;
  /** In the list: what came last ("[" opened it, "," or an element). */
  private listState: 'open' | 'comma' | 'element' = 'open';
  /** In the root object: the next string is a key; the key being read; the last key read. */
  private expectKey = false;
  private readingKey = false;
  private keyText = '';
  private lastKey = '';
  private listKey: string | undefined;
  private elements = 0;
  /** The text outside the list (the list itself as "[]"), parsed by `end`. */
  private outside = '';
  /** The current element's text from earlier pieces, and the line it starts on. */
  private partial = '';
  private partialLine = 0;
  private partialByte = 0;
  /** Characters in the pieces before this one; where (in characters and UTF-8 bytes) the last element ended. */
  private consumed = 0;
  private lastEndChar = 0;
  private lastEndByte = 0;

  /** Takes the next piece of text; calls `onItem` for every element completed in it. */
  push(chunk: string, onItem: (item: JsonListItem) => void): void {
    if (this.failed) return;
    const n = chunk.length;
    let itemFrom = this.phase === 'item' ? 0 : -1;
    let outsideFrom = this.phase === 'start' || this.phase === 'root' || this.phase === 'end' ? 0 : -1;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 0x0a) {
        this.line++;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) {
          this.inString = false;
          if (this.readingKey) {
            this.readingKey = false;
            try {
              this.lastKey = JSON.parse(`"${this.keyText}"`) as string;
            } catch {
              return this.fail();
            }
          }
          continue;
        }
        if (this.readingKey) this.keyText += chunk[i];
        continue;
      }
      if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
      switch (this.phase) {
        case 'start':
          if (c === 0x7b /* { */) {
            this.phase = 'root';
            this.depth = 1;
            this.expectKey = true;
          } else if (c === 0x5b /* [ */) {
            this.outside += chunk.slice(outsideFrom, i + 1);
            outsideFrom = -1;
            this.rootArray = true;
            this.phase = 'list';
            this.depth = this.listDepth = 1;
            this.listState = 'open';
          } else return this.fail();
          break;
        case 'root':
          if (c === 0x22) {
            this.inString = true;
            if (this.depth === 1 && this.expectKey) {
              this.readingKey = true;
              this.keyText = '';
              this.expectKey = false;
            }
          } else if (c === 0x5b && this.depth === 1 && this.lastKey.toLowerCase() === 'resources') {
            if (this.listKey !== undefined) return this.fail();
            this.listKey = this.lastKey;
            this.outside += chunk.slice(outsideFrom, i + 1);
            outsideFrom = -1;
            this.phase = 'list';
            this.depth = this.listDepth = 2;
            this.listState = 'open';
          } else if (c === 0x7b || c === 0x5b) this.depth++;
          else if (c === 0x7d || c === 0x5d) {
            if (--this.depth === 0) this.phase = 'end';
          } else if (c === 0x2c /* , */ && this.depth === 1) this.expectKey = true;
          break;
        case 'list':
          if (c === 0x5d /* ] */) {
            if (this.listState === 'comma') return this.fail();
            this.depth--;
            this.phase = this.rootArray ? 'end' : 'root';
            outsideFrom = i;
          } else if (c === 0x2c) {
            if (this.listState !== 'element') return this.fail();
            this.listState = 'comma';
          } else if (c === 0x7b && this.listState !== 'element') {
            this.phase = 'item';
            this.depth++;
            itemFrom = i;
            this.partial = '';
            this.partialLine = this.line;
            // Between elements there is only ASCII (white space, commas): one byte a character.
            // Before the first, the text outside the list, which ends with its "[".
            const at = this.consumed + i;
            this.partialByte =
              this.elements === 0
                ? Buffer.byteLength(this.outside) + at - this.outside.length
                : this.lastEndByte + at - this.lastEndChar;
          } else return this.fail();
          break;
        case 'item':
          if (c === 0x22) this.inString = true;
          else if (c === 0x7b || c === 0x5b) this.depth++;
          else if (c === 0x7d || c === 0x5d) {
            if (--this.depth === this.listDepth) {
              const text = this.partial + chunk.slice(itemFrom, i + 1);
              this.partial = '';
              itemFrom = -1;
              this.phase = 'list';
              this.listState = 'element';
              this.elements++;
              this.lastEndChar = this.consumed + i + 1;
              this.lastEndByte = this.partialByte + Buffer.byteLength(text);
              onItem({ text, line: this.partialLine, byteOffset: this.partialByte });
              if (this.failed) return;
            }
          }
          break;
        case 'end':
          return this.fail();
      }
    }
    if (itemFrom >= 0) this.partial += chunk.slice(itemFrom);
    if (outsideFrom >= 0) this.outside += chunk.slice(outsideFrom);
    this.consumed += n;
  }

  /** Marks the text as not followed here (also for a caller that finds an element it cannot take). */
  fail(): void {
    this.failed = true;
    this.partial = '';
  }

  /**
   * After the last piece: the root value without its list (the list as []) and the key the
   * list was under (undefined for a root array), or undefined when the text must be read whole.
   */
  end(): { root: unknown; key: string | undefined } | undefined {
    if (this.failed || this.phase !== 'end' || this.elements === 0) return undefined;
    let root: unknown;
    try {
      root = JSON.parse(this.outside);
    } catch {
      return undefined;
    }
    if (!this.rootArray) {
      // Exactly one "Resources" (in any case), the one the list was found under.
      const keys = Object.keys(root as Record<string, unknown>).filter((k) => k.toLowerCase() === 'resources');
      if (keys.length !== 1 || keys[0] !== this.listKey) return undefined;
    }
    return { root, key: this.listKey };
  }
}

/** Something JSON.parse takes without a word that a source must not: see jsonHazards. */
export interface JsonHazard {
  /** Offset in the text where it is. */
  offset: number;
  /** Where in the value: `userName`, `name.givenName`, `emails[2].value` (indexes 1-based), '' for the value itself. */
  path: string;
  kind: 'duplicate-key' | 'non-finite' | 'too-long';
  /** The key repeated, the number as written, or the string's length in UTF-8 bytes. */
  detail: string;
}

/** Is `text` over `max` bytes in UTF-8 (without encoding short texts)? */
export const overBytes = (text: string, max: number): boolean => text.length * 3 > max && Buffer.byteLength(text) > max;

interface HazardFrame {
  array: boolean;
  keys?: Set<string>;
  expectKey: boolean;
  /** The path of this container. */
  path: string;
  /** The key of the value being read (objects), or the index of the next element (arrays, 0-based). */
  key: string;
  index: number;
  /** An extension's object: the value of a schema URN key of the record. */
  urn?: boolean;
}

const childPath = (frame: HazardFrame | undefined): string => {
  if (!frame) return '';
  if (frame.array) return `${frame.path}[${frame.index + 1}]`;
  if (frame.path === '') return frame.key;
  // An extension's attributes are named as CSV columns name them: urn:…:User:employeeNumber.
  return `${frame.path}${frame.urn ? ':' : '.'}${frame.key}`;
};

/**
 * What JSON.parse lets through in a text it accepted, from `start` to `end`: a key repeated
 * in one object (JSON.parse keeps the last, silently), a number too large to be finite
 * (1e999 parses as Infinity), a string over `maxBytes`. Paths are relative to the value at
 * `start`. One pass, no recursion.
 */
export function jsonHazards(text: string, start = 0, end = text.length, maxBytes = MAX_VALUE_BYTES): JsonHazard[] {
  const out: JsonHazard[] = [];
  const stack: HazardFrame[] = [];
  const top = () => stack[stack.length - 1];
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a /* : */) {
      i++;
    } else if (c === 0x2c /* , */) {
      const t = top();
      if (t) {
        if (t.array) t.index++;
        else t.expectKey = true;
      }
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
      if (stack.length === 0) break;
    } else if (c === 0x22 /* " */) {
      const stop = stringEnd(text, i);
      const t = top();
      if (t && !t.array && t.expectKey) {
        const key = JSON.parse(text.slice(i, stop)) as string;
        t.key = key;
        if (t.keys!.has(key)) out.push({ offset: i, path: childPath(t), kind: 'duplicate-key', detail: key });
        t.keys!.add(key);
        t.expectKey = false;
      } else if (stop - i > maxBytes / 6 && overBytes(JSON.parse(text.slice(i, stop)) as string, maxBytes)) {
        out.push({
          offset: i,
          path: childPath(t),
          kind: 'too-long',
          detail: String(Buffer.byteLength(JSON.parse(text.slice(i, stop)) as string)),
        });
      }
      i = stop;
      if (!t) break;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = top();
      const path = childPath(parent);
      const array = c === 0x5b;
      const urn = !array && stack.length === 1 && parent !== undefined && !parent.array && /^urn:/i.test(parent.key);
      stack.push({ array, keys: array ? undefined : new Set(), expectKey: !array, path, key: '', index: 0, urn });
      i++;
    } else {
      const from = i;
      for (
        let d = c;
        i < end && d !== 0x2c && d !== 0x5d && d !== 0x7d && d !== 0x20 && d !== 0x0a && d !== 0x0d && d !== 0x09;
        d = text.charCodeAt(++i)
      );
      const token = text.slice(from, i);
      if ((c === 0x2d || (c >= 0x30 && c <= 0x39)) && !Number.isFinite(Number(token)))
        out.push({ offset: from, path: childPath(top()), kind: 'non-finite', detail: token });
      if (stack.length === 0) break;
    }
  }
  return out;
}

/** A hazard as the message of a problem (its path is the problem's field). */
export function hazardMessage(h: JsonHazard, maxBytes = MAX_VALUE_BYTES): string {
  switch (h.kind) {
    case 'duplicate-key':
      return (
        `the key ${JSON.stringify(h.detail)} is given more than once in one object ` + `(JSON would keep only the last)`
      );
    case 'non-finite':
      return `the number ${h.detail} is out of range (not a finite number)`;
    case 'too-long':
      return `the value is ${h.detail} bytes long, over the limit of ${maxBytes} bytes`;
  }
}
