/**
 * The plan review: what the plan could not take up (its problems and notes) in a
 * short block on top, the changes grouped by kind, then the summary (or the
 * confirmation, the progress, the outcome) and the filter.
 */
import { Box, Text } from 'ink';
import { SchemaRegistry } from '../../api/schema.ts';
import { changeLines, problemLines, summaryText } from '../../output/plan.ts';
import { safeText } from '../../output/safe-text.ts';
import { truncate } from '../../output/table.ts';
import { kindFacts } from '../../sync/change-kinds.ts';
import { keyLabel } from '../keys.ts';
import { includedSummary, progressOf, shownChanges, type ReviewState } from '../state/review.ts';

export interface ReviewPaneProps {
  review: ReviewState;
  width: number;
  /** Lines for the findings and the changes (the two summary lines come on top). */
  height: number;
  color: boolean;
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

export function ReviewPane({ review, width, height, color }: ReviewPaneProps) {
  const registry = new SchemaRegistry();
  // The findings take at most a third of the pane: the changes are what is reviewed.
  const findings = findingLines(review, Math.max(1, Math.floor(height / 3)));
  const room = Math.max(1, height - findings.length);
  const shown = shownChanges(review);
  const lines: Array<{ text: string; selected?: boolean; dim?: boolean; color?: string }> = [];
  let lastKind = '';
  shown.forEach((c, i) => {
    if (c.kind !== lastKind) {
      lastKind = c.kind;
      lines.push({ text: `${kindFacts(c.kind).title} (${shown.filter((x) => x.kind === c.kind).length})`, dim: true });
    }
    const result = review.results[c.id];
    const mark = result
      ? result.status === 'applied'
        ? '✓'
        : result.status === 'failed'
          ? '✗'
          : '-'
      : review.excluded.has(c.id)
        ? ' '
        : '✔';
    const [head, ...rest] = changeLines(c, registry, review.expanded.has(c.id));
    lines.push({
      text: `[${mark}] ${head}${result?.status === 'failed' ? `  — ${result.detail ?? 'failed'}` : ''}`,
      selected: i === review.selected,
      dim: review.excluded.has(c.id),
      color: result?.status === 'failed' ? 'red' : undefined,
    });
    for (const r of rest) lines.push({ text: `      ${r.trim()}`, dim: review.excluded.has(c.id) });
  });
  const selectedLine = lines.findIndex((l) => l.selected);
  const start = Math.max(0, Math.min(selectedLine - Math.floor(room / 2), lines.length - room));
  const s = includedSummary(review);
  const p = progressOf(review);
  const footer =
    review.phase === 'confirm'
      ? `Apply ${review.changes.length - s.excluded} change(s)? Type "yes" and ${keyLabel('confirmApply', 'submit')}: ${review.confirmInput}`
      : review.phase === 'applying'
        ? `Applying… ${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}  ${'█'.repeat(Math.round((p.done / Math.max(1, p.total)) * 20)).padEnd(20, '░')}`
        : review.phase === 'done'
          ? `Done: ${p.applied} applied, ${p.failed} failed, ${p.excluded} excluded. ${keyLabel('review', 'backOrQuit')} to quit.`
          : summaryText(s);
  // On a line of its own: after the summary it would be cut off on a terminal 80 or 100 columns wide.
  const filterLine =
    review.phase === 'review' ? `filter: ${review.filter}${s.excluded ? `  ·  ${s.excluded} excluded` : ''}` : '';
  return (
    <Box flexDirection="column">
      {findings.map((l, i) => (
        <Text key={`finding-${i}`} color={color ? 'yellow' : undefined} wrap="truncate">
          {truncate(l, width)}
        </Text>
      ))}
      {shown.length === 0 ? (
        <Text dimColor>No changes{review.filter !== 'all' ? ' of this kind' : ''}: the target matches the source.</Text>
      ) : null}
      {lines.slice(start, start + room).map((l, i) => (
        <Text key={i} inverse={l.selected} dimColor={l.dim} color={color ? l.color : undefined} wrap="truncate">
          {truncate(l.text, width)}
        </Text>
      ))}
      <Text bold wrap="truncate">
        {truncate(footer, width)}
      </Text>
      <Text wrap="truncate">{truncate(filterLine, width)}</Text>
    </Box>
  );
}
