/**
 * Problems of many records, told once per kind: a source with the same mistake on 120 rows
 * gives one line with a count and the first few file:line examples, not 120 lines.
 *
 * A problem's kind is the field it names (as it is) and its message with the parts that name
 * one record left out: quoted values, file:line references, numbers, e-mail addresses and
 * what is in parentheses. A kind whose problems all say the same thing is one line:
 *   column "titel": unknown attribute; valid: title, …: 120 records, e.g. users.csv:2, users.csv:3, users.csv:4
 * A kind whose problems differ in those parts is listed problem by problem when it has at
 * most three, else as a heading (the kind's text, with "…" for the parts that differ), its
 * count and its first three problems, indented.
 *
 * Pure: text in, text out.
 */

export interface LocatedProblem {
  file: string;
  /** 1-based line; 0 for the file as a whole. */
  line: number;
  /** Which record, where the line does not say it (several JSON records on one line): part of the location. */
  record?: string;
  /** What the problem is about, kept whole in its kind (for a source record: `column "FIELD"`). */
  label?: string;
  message: string;
}

/** A problem without its location: `LABEL: MESSAGE`, or the message. */
export const problemText = (p: LocatedProblem): string =>
  p.label !== undefined ? `${p.label}: ${p.message}` : p.message;

export interface ProblemGroup<P extends LocatedProblem = LocatedProblem> {
  /** The kind's text: the problems' text (problemText) when they all say the same, else with "…" for what differs. */
  heading: string;
  /** Whether every problem of the group has the same text. */
  same: boolean;
  problems: P[];
}

/** How many problems (or locations) of a kind are shown. */
export const EXAMPLES = 3;

/** The text of a problem with what names one record left out. */
export function problemKind(text: string): string {
  return text
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/\S+:\d+(?=$|[\s,;)])/g, '…')
    .replace(/[^\s"(),;]+@[^\s"(),;]+/g, '…')
    .replace(/\([^()]*\)/g, '(…)')
    .replace(/\b\d+\b/g, '…');
}

/** Problems by kind, kinds in the order of their first problem. */
export function groupProblems<P extends LocatedProblem>(problems: readonly P[]): Array<ProblemGroup<P>> {
  const byKind = new Map<string, ProblemGroup<P>>();
  for (const p of problems) {
    const text = problemText(p);
    const generic = problemText({ ...p, message: problemKind(p.message) });
    const group = byKind.get(generic);
    if (!group) byKind.set(generic, { heading: text, same: true, problems: [p] });
    else {
      group.problems.push(p);
      if (group.same && text !== group.heading) {
        group.same = false;
        group.heading = generic;
      }
    }
  }
  return [...byKind.values()];
}

/**
 * A directory entry's DN (`uid=x,ou=people,dc=example,dc=org`, two RDNs at least): the location of an LDAP source's
 * record, which has no line.
 */
export const isDn = (file: string): boolean =>
  /^[A-Za-z][\w.-]*=(?:\\.|[^,\\])*(?:,\s*[A-Za-z][\w.-]*=(?:\\.|[^,\\])*)+$/.test(file);

/** A resource of a SCIM server read as a source (line 0): its URL. */
const isResourceUrl = (file: string): boolean => /^https?:\/\//i.test(file);

/** FILE:LINE; a directory entry (line 0) by its DN alone, a SCIM server's resource by its URL alone. */
export const location = (p: { file: string; line: number; record?: string }): string => {
  const place = p.line === 0 && (isDn(p.file) || isResourceUrl(p.file)) ? p.file : `${p.file}:${p.line}`;
  return `${place}${p.record !== undefined ? `: ${p.record}` : ''}`;
};

/** The lines of one group (see the module's comment). */
export function groupLines(group: ProblemGroup): string[] {
  const { problems } = group;
  if (problems.length === 1 || (!group.same && problems.length <= EXAMPLES))
    return problems.map((p) => `${location(p)}: ${problemText(p)}`);
  const records = new Set(problems.map(location)).size;
  if (group.same) {
    const shown = [...new Set(problems.map(location))];
    const which = records > EXAMPLES ? `, e.g. ${shown.slice(0, EXAMPLES).join(', ')}` : `: ${shown.join(', ')}`;
    return [`${group.heading}: ${records} records${which}`];
  }
  return [
    `${group.heading}: ${records} records, e.g.`,
    ...problems.slice(0, EXAMPLES).map((p) => `  ${location(p)}: ${problemText(p)}`),
  ];
}

/**
 * The lines of every group, in order; with `maxGroups`, the first that many, then how many
 * problems were left out ("… and N more").
 */
export function groupedLines(problems: readonly LocatedProblem[], maxGroups = Infinity): string[] {
  const groups = groupProblems(problems);
  const lines = groups.slice(0, maxGroups).flatMap(groupLines);
  const rest = groups.slice(maxGroups).reduce((n, g) => n + g.problems.length, 0);
  if (rest > 0) lines.push(`… and ${rest} more`);
  return lines;
}
