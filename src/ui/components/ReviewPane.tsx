/**
 * The plan review: what the plan could not take up (its problems and notes) in a short block, the changes grouped
 * by kind (removals marked), then the summary (or the confirmation, the progress, the outcome) and the filter. On a
 * wide terminal the selected change's detail (its attribute diff, why it is excluded, the server's word on a
 * failure) stands in a pane beside the list. Colour, where it is on: + green, ~ yellow, - red.
 */
import { isAbsolute, relative } from 'node:path';
import { Box, Text } from 'ink';
import { SchemaRegistry } from '../../api/schema.ts';
import { changeLines, problemLines, summaryText } from '../../output/plan.ts';
import { safeText } from '../../output/safe-text.ts';
import { truncate } from '../../output/table.ts';
import { location } from '../../sources/problem-groups.ts';
import { isRemoval, kindFacts } from '../../sync/change-kinds.ts';
import { changeName } from '../../sync/dependencies.ts';
import type { Change } from '../../sync/model.ts';
import { keyLabel } from '../keys.ts';
import {
  excludedBecause,
  includedSummary,
  isExpanded,
  progressOf,
  removes,
  selectedChange,
  shownChanges,
  type ReviewState,
} from '../state/review.ts';

export interface ReviewPaneProps {
  review: ReviewState;
  width: number;
  /** Lines for the findings and the changes (the two summary lines come on top). */
  height: number;
  color: boolean;
  /** Wide enough for the selected change's detail beside the list. */
  split?: boolean;
}

/** The plan's problems and notes as the plan text tells them (src/output/plan.ts), at most `room` lines. */
export function findingLines(review: Pick<ReviewState, 'problems' | 'notes'>, room: number): string[] {
  const all = [
    ...(review.problems.length
      ? [
          `${review.problems.length} source record(s) could not be planned (their users are left alone):`,
          ...problemLines(review.problems),
        ]
      : []),
    // Marked like the plan text marks its lines: a note may quote the server.
    ...review.notes.map((n) => safeText(`Note: ${n}`, { marks: true })),
  ];
  if (all.length <= room) return all;
  const kept = all.slice(0, Math.max(0, room - 1));
  return [...kept, `… ${all.length - kept.length} more line(s): scimctl sync plan shows them all`];
}

/** A source location as a person at this working directory reads it: relative when the path is absolute. */
export function shownLocation(origin: { file: string; line: number; record?: string }, cwd = process.cwd()): string {
  const file = isAbsolute(origin.file) ? relative(cwd, origin.file) || origin.file : origin.file;
  return location({ ...origin, file });
}

/** The colour of a plan line by its mark: + green, ~ yellow, - red. */
const SYMBOL_COLOURS: Record<string, string> = { '+': 'green', '~': 'yellow', '-': 'red' };
const colourOf = (line: string): string | undefined => SYMBOL_COLOURS[line.trim().charAt(0)];

interface Line {
  text: string;
  /** Shown dimmed after the text: the source location. */
  dimTail?: string;
  selected?: boolean;
  dim?: boolean;
  bold?: boolean;
  color?: string;
}

/** A change's first line without its source location, and that location (relative) to show dimmed. */
function headAndPlace(c: Change, head: string): { head: string; place?: string } {
  if (!('origin' in c)) return { head };
  const tail = `  (${location(c.origin)})`;
  return head.endsWith(tail) ? { head: head.slice(0, -tail.length), place: shownLocation(c.origin) } : { head };
}

/** Text cut into lines of at most `width` characters. */
const progressBar = (done: number, total: number, width = 20) =>
  '█'.repeat(Math.round((done / Math.max(1, total)) * width)).padEnd(width, '░');
const chunks = (text: string, width: number): string[] =>
  text.length === 0 ? [] : (text.match(new RegExp(`[\\s\\S]{1,${Math.max(1, width)}}`, 'gu')) ?? []);

/** The lines of the detail pane: the selected change whole, why it is excluded, and its result. */
export function detailLines(review: ReviewState, width: number, registry = new SchemaRegistry()): Line[] {
  const c = selectedChange(review);
  if (!c) return [];
  const [head = '', ...rest] = changeLines(c, registry, true);
  const { head: shown, place } = headAndPlace(c, head);
  const lines: Line[] = [{ text: shown, bold: true, color: removes(c) ? 'red' : colourOf(shown) }];
  if (place) lines.push({ text: `from ${place}`, dim: true });
  for (const r of rest) lines.push({ text: r.trim(), color: colourOf(r) });
  if (rest.length === 0 && removes(c)) lines.push({ text: 'removes: cannot be undone by another sync', color: 'red' });
  const need = excludedBecause(review).get(c.id);
  if (review.excluded.has(c.id))
    lines.push({
      text: need
        ? `excluded: needs ${changeName(
            review.changes.find((x) => x.id === need),
            need,
          )}`
        : 'excluded',
      dim: true,
    });
  const result = review.results[c.id];
  if (result) {
    const mark = result.status === 'applied' ? '✓ applied' : result.status === 'failed' ? '✗ failed' : '- excluded';
    lines.push({ text: '' }, { text: mark, color: result.status === 'failed' ? 'red' : undefined, bold: true });
    for (const l of chunks(result.detail ?? '', width))
      lines.push({ text: l, color: result.status === 'failed' ? 'red' : undefined });
  }
  return lines;
}

function LineText({ line, width, color }: { line: Line; width: number; color: boolean }) {
  const full = line.dimTail ? `${line.text}  ${line.dimTail}` : line.text;
  const fits = full.length <= width;
  return (
    <Text
      inverse={line.selected}
      dimColor={line.dim}
      bold={line.bold}
      color={color ? line.color : undefined}
      wrap="truncate"
    >
      {fits ? line.text : truncate(full, width)}
      {fits && line.dimTail ? <Text dimColor>{`  ${line.dimTail}`}</Text> : null}
    </Text>
  );
}

export function ReviewPane({ review, width, height, color, split = false }: ReviewPaneProps) {
  const registry = new SchemaRegistry();
  // The findings take at most a third of the pane: the changes are what is reviewed.
  const findings = findingLines(review, Math.max(1, Math.floor(height / 3)));
  const room = Math.max(1, height - findings.length);
  const listWidth = split ? Math.floor(width * 0.55) : width;
  const detailWidth = width - listWidth - 3;
  const shown = shownChanges(review);
  const because = excludedBecause(review);
  const lines: Line[] = [];
  let lastKind = '';
  shown.forEach((c, i) => {
    if (c.kind !== lastKind) {
      lastKind = c.kind;
      const n = shown.filter((x) => x.kind === c.kind).length;
      lines.push(
        isRemoval(c.kind)
          ? { text: `${kindFacts(c.kind).title} (${n})  ⚠ removes`, bold: true, color: 'red' }
          : { text: `${kindFacts(c.kind).title} (${n})`, dim: true },
      );
    }
    const result = review.results[c.id];
    const excluded = review.excluded.has(c.id);
    const mark = result
      ? result.status === 'applied'
        ? '✓'
        : result.status === 'failed'
          ? '✗'
          : '-'
      : excluded
        ? ' '
        : '✔';
    const expanded = isExpanded(review, c.id);
    const [first = '', ...rest] = changeLines(c, registry, expanded);
    const { head, place } = headAndPlace(c, first);
    const need = because.get(c.id);
    const why =
      excluded && !result
        ? `  (excluded${
            need
              ? `: needs ${changeName(
                  review.changes.find((x) => x.id === need),
                  need,
                )}`
              : ''
          })`
        : '';
    const failed = result?.status === 'failed';
    lines.push({
      text: `[${mark}] ${head}${why}${failed ? `  — ${result.detail ?? 'failed'}` : ''}`,
      dimTail: place && `(${place})`,
      selected: i === review.selected,
      dim: excluded,
      bold: removes(c) && !excluded,
      color: failed ? 'red' : removes(c) ? 'red' : colourOf(head),
    });
    for (const r of rest) lines.push({ text: `      ${r.trim()}`, dim: excluded, color: colourOf(r) });
    // After apply, Enter on a failure shows the server's word whole.
    if (failed && expanded && !split)
      for (const l of chunks(result.detail ?? '', listWidth - 6)) lines.push({ text: `      ${l}`, color: 'red' });
  });
  const selectedLine = lines.findIndex((l) => l.selected);
  const start = Math.max(0, Math.min(selectedLine - Math.floor(room / 2), lines.length - room));
  const s = includedSummary(review);
  const p = progressOf(review);
  const footer =
    review.phase === 'confirm'
      ? `Apply ${review.changes.length - s.excluded} change(s)? Type "yes" and ` +
        `${keyLabel('confirmApply', 'submit')}: ${review.confirmInput}`
      : review.phase === 'applying'
        ? `Applying… ${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}  ${progressBar(p.done, p.total)}`
        : review.phase === 'done'
          ? `Done: ${p.applied} applied, ${p.failed} failed, ${p.excluded} excluded. ` +
            `${keyLabel('review', 'backOrQuit')} to quit.`
          : summaryText(s);
  // On a line of its own: after the summary it would be cut off on a terminal 80 or 100 columns wide.
  const filterLine =
    review.phase === 'review' || review.phase === 'done'
      ? `filter: ${review.filter}${s.excluded && review.phase === 'review' ? `  ·  ${s.excluded} excluded` : ''}`
      : '';
  const list = (
    <Box flexDirection="column" width={listWidth}>
      {shown.length === 0 ? (
        <Text dimColor>
          {review.filter === 'failures'
            ? 'No failures.'
            : `No changes${review.filter !== 'all' ? ' of this kind' : ''}: the target matches the source.`}
        </Text>
      ) : null}
      {lines.slice(start, start + room).map((l, i) => (
        <LineText key={i} line={l} width={listWidth} color={color} />
      ))}
    </Box>
  );
  return (
    <Box flexDirection="column">
      {findings.map((l, i) => (
        <Text key={`finding-${i}`} color={color ? 'yellow' : undefined} wrap="truncate">
          {truncate(l, width)}
        </Text>
      ))}
      {split ? (
        <Box flexDirection="row" height={room}>
          {list}
          <Text> </Text>
          <Box borderStyle="single" borderTop={false} borderBottom={false} borderRight={false} paddingLeft={1}>
            <Box flexDirection="column" width={detailWidth}>
              {detailLines(review, detailWidth, registry)
                .slice(0, room)
                .map((l, i) => (
                  <LineText key={i} line={l} width={detailWidth} color={color} />
                ))}
            </Box>
          </Box>
        </Box>
      ) : (
        list
      )}
      <Text bold wrap="truncate">
        {truncate(footer, width)}
      </Text>
      <Text wrap="truncate">{truncate(filterLine, width)}</Text>
    </Box>
  );
}
