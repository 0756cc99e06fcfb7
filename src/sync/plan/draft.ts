/**
 * What the planner's phases write, in the order they write it: changes, problems, and the versions of what changes
 * touch.
 */
import type { ScimResource } from '../../api/types.ts';
import type { Change, Origin, RecordProblem } from '../model.ts';
import { resourceVersion, versionKey } from './versions.ts';

export class PlanDraft {
  readonly changes: Change[] = [];
  readonly problems: RecordProblem[] = [];
  readonly versions: Record<string, string> = {};

  problem(origin: Origin, message: string): void {
    this.problems.push({ origin, message });
  }

  /** Records the version of `r`, which a change of this plan modifies (applying checks it again). */
  touch(r: ScimResource, kind: 'User' | 'Group'): void {
    this.versions[versionKey(kind, r.id)] = resourceVersion(r);
  }
}
