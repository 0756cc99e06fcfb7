/**
 * `scimctl profile test [name] [--write-probe] [--json]`: a compatibility report of the target,
 * per capability what it does and how scimctl adapts (src/api/probe.ts does the probing). What
 * it finds is recorded for the profile, so later commands start from it.
 */
import stringWidth from 'string-width';
import type { CompatReport, Finding, FindingStatus } from '../../api/probe.ts';
import { writeChunk, type IOStreams } from '../../output/iostreams.ts';
import { progressBar, type ProgressReporter } from '../../output/progress.ts';
import { fitWidths, padEnd, renderTsvRow, tsvCell, type Column } from '../../output/table.ts';
import { safeText } from '../../output/safe-text.ts';
import { onInterrupt } from '../../util/interrupt.ts';
import { defineCommand, globalArgs } from '../context.ts';
import { ExitCode, SilentExit } from '../exit-codes.ts';

/** The columns of the report: a pipe gets them tab-separated, in this order. */
export const FINDING_COLUMNS: Column<Finding>[] = [
  { header: 'capability', value: (f) => f.capability, minWidth: 12 },
  { header: 'status', value: (f) => f.status, minWidth: 8 },
  { header: 'what the target does', value: (f) => f.does, shrinkable: true, minWidth: 16 },
  { header: 'how scimctl adapts', value: (f) => f.adapts, shrinkable: true, minWidth: 16 },
];

/** Cuts a text into lines of at most `width` display columns, at spaces where it can. */
export function wrapText(text: string, width: number): string[] {
  if (width <= 0) return [text];
  const lines: string[] = [];
  let line = '';
  const push = () => {
    lines.push(line);
    line = '';
  };
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    // A word wider than the column is cut wherever it has to be.
    while (stringWidth(rest) > width) {
      if (line) push();
      let head = '';
      for (const ch of rest) {
        if (stringWidth(head + ch) > width) break;
        head += ch;
      }
      lines.push(head);
      rest = rest.slice(head.length);
    }
    if (!rest) continue;
    if (!line) line = rest;
    else if (stringWidth(`${line} ${rest}`) <= width) line = `${line} ${rest}`;
    else {
      push();
      line = rest;
    }
  }
  if (line || lines.length === 0) push();
  return lines;
}

const COLOURS: Partial<Record<FindingStatus, string>> = { ok: '\x1b[32m', adapted: '\x1b[33m', failed: '\x1b[31m' };

/**
 * Column widths: the capability and status columns as wide as they need, the two texts sharing
 * what is left (each at most what it needs). On a very narrow terminal, the table module's fitting.
 */
export function reportWidths(natural: readonly number[], width: number): number[] {
  const [capability = 0, status = 0, does = 0, adapts = 0] = natural;
  const left = width - 2 * (natural.length - 1) - capability - status;
  if (left >= does + adapts) return [...natural];
  if (left < 32) {
    return fitWidths(
      [...natural],
      width,
      FINDING_COLUMNS.map((c) => !!c.shrinkable),
      FINDING_COLUMNS.map((c) => c.minWidth ?? 4),
    );
  }
  const a = Math.min(adapts, left - Math.min(does, Math.ceil(left / 2)));
  return [capability, status, Math.min(does, left - a), a];
}

/**
 * The report as a table fitted to the terminal: like renderTable's (same widths and gaps), but
 * long cells wrap onto more lines instead of being cut: every word of a finding matters.
 */
export function renderReportTable(findings: readonly Finding[], width: number, colour = false): string[] {
  const cells = findings.map((f) => FINDING_COLUMNS.map((c) => tsvCell(c.value(f))));
  const natural = FINDING_COLUMNS.map((c, i) =>
    Math.max(stringWidth(c.header), ...cells.map((row) => stringWidth(row[i]!))),
  );
  const widths = reportWidths(natural, width);
  const out: string[] = [];
  const emit = (values: string[], status?: FindingStatus) => {
    const wrapped = values.map((v, i) => wrapText(v, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    for (let line = 0; line < height; line++) {
      const parts = wrapped.map((w, i) => {
        const text = i === wrapped.length - 1 ? (w[line] ?? '') : padEnd(w[line] ?? '', widths[i]!);
        const paint = colour && i === 1 && line === 0 && status ? COLOURS[status] : undefined;
        return paint ? `${paint}${text}\x1b[0m` : text;
      });
      out.push(parts.join('  ').trimEnd());
    }
  };
  emit(FINDING_COLUMNS.map((c) => c.header.toUpperCase()));
  findings.forEach((f, i) => emit(cells[i]!, f.status));
  return out;
}

/** Progress on stderr: steps of the whole probe, under the name of the phase at hand. */
function phaseProgress(io: IOStreams): { update(phase: string, done: number, total?: number): void; finish(): void } {
  let phase: string | undefined;
  let bar: ProgressReporter | undefined;
  return {
    update(next, done, total) {
      if (next !== phase) {
        bar?.finish();
        phase = next;
        bar = progressBar(io, `Testing the target: ${next}`);
      }
      bar?.update(done, total);
    },
    finish() {
      bar?.finish();
    },
  };
}

export const profileTestCommand = defineCommand({
  command: 'test [name]',
  describe: 'Test the target: what it does per capability, and how scimctl adapts (recorded for the profile)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'Profile (default: the current connection)' })
      .option('write-probe', {
        type: 'boolean',
        default: false,
        describe: 'Also test writes: create, change and delete a throwaway user and group (nothing is left behind)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as a JSON object' }),
  // The profile named here is the one tested.
  globals: (argv) => ({ ...globalArgs(argv), profile: argv.name ?? argv.profile }),
  run: async (argv, f) => {
    const client = await f.client();
    const connection = await f.connection();
    const { probeTarget, describeLeft } = await import('../../api/probe.ts');
    const progress = phaseProgress(f.io);
    let live: ReadonlyArray<{ kind: string; id: string; name: string }> = [];
    // Ctrl+C during the write probe: the throwaway resources cannot be deleted any more, but they are named.
    const stopTelling = onInterrupt(() => {
      if (live.length > 0)
        f.io.stderr.write(
          `\nscimctl: interrupted during the write probe; left behind: ` +
            `${live.map((l) => `${l.kind.toLowerCase()} ${safeText(l.id)} "${safeText(l.name)}"`).join(', ')}\n`,
        );
    });
    let report: CompatReport;
    try {
      report = await probeTarget(client, {
        writeProbe: argv.writeProbe,
        onProgress: (phase, done, total) => progress.update(phase, done, total),
        onLive: (now) => (live = now),
      });
    } finally {
      progress.finish();
      stopTelling();
    }
    const source = connection.name === 'environment' ? 'from SCIMCTL_URL' : `profile ${connection.name}`;
    const ok = report.usable && report.fatal === undefined && report.leftBehind.length === 0;

    if (argv.json) {
      const { fatal: _fatal, capabilities, ...rest } = report;
      const body = {
        profile: connection.name,
        url: connection.url,
        ok,
        ...rest,
        learned: capabilities.learned,
        capabilities,
      };
      await writeChunk(f.io.stdout, `${JSON.stringify(body, null, 2)}\n`);
    } else if (f.io.isStdoutTTY) {
      const lines = [
        `${connection.url} (${source})${report.writeProbe ? ', with the write probe' : ''}`,
        '',
        ...renderReportTable(report.findings, f.io.columns, f.io.color),
      ];
      await writeChunk(f.io.stdout, `${lines.join('\n')}\n`);
    } else {
      f.log(`${connection.url} (${source})${report.writeProbe ? ', with the write probe' : ''}`);
      await writeChunk(f.io.stdout, report.findings.map((x) => `${renderTsvRow(x, FINDING_COLUMNS)}\n`).join(''));
    }

    for (const left of report.leftBehind) f.log(`left behind on the target: ${describeLeft(left)}`);
    if (report.fatal !== undefined) throw report.fatal;
    if (report.leftBehind.length > 0) throw new SilentExit(ExitCode.ERROR);
    if (!report.usable) {
      f.log('the target is not usable as it is: see the rows marked failed');
      throw new SilentExit(ExitCode.ERROR);
    }
    if (!argv.json && f.io.isStdoutTTY && !report.writeProbe)
      f.log('no writes were tried: --write-probe creates a throwaway user and group, changes them and deletes them');
  },
});
