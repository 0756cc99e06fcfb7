/**
 * Every fact about a kind of plan change, in one table: where it runs when a plan is
 * applied, where the review shows it, how it is titled and marked, which review filters
 * show it, which threshold it counts against, and which kinds it may depend on.
 * Apply, the review, the renderers, the counts and the plan-file check read it from here.
 */
import type { ChangeKind } from './model.ts';

/** A review filter other than `all`: the categories a change kind belongs to. */
export type ReviewCategory = 'creates' | 'updates' | 'removals' | 'groups';

/** The counter of a change kind in ChangeCounts (counts.ts). */
export type KindCounter =
  | 'create'
  | 'update'
  | 'deactivate'
  | 'delete'
  | 'groupsCreated'
  | 'membershipAdds'
  | 'membershipRemovals'
  | 'groupsDeleted';

/** The removal thresholds of safety.ts (its LIMITS), one a removal kind counts against. */
export type RemovalThreshold = 'deletes' | 'membershipRemovals' | 'groupDeletes';

export interface ChangeKindFacts {
  /**
   * The apply phase (1–7): phases run in this order, the kinds of one phase together
   * (add-member and remove-member are one per-group pass). Apply reports its results in
   * the order of `applyOrder`.
   */
  phase: number;
  /** Position in apply order: the order of apply's results. */
  applyOrder: number;
  /**
   * Position in the review, which groups changes by kind: user changes first (create,
   * update, deactivate, delete), then group changes. Not apply order: apply deactivates
   * and deletes users after the group and membership changes.
   */
  reviewOrder: number;
  /** The heading of the kind's group in the review, plural as shown (`Create users (2)`). */
  title: string;
  /** The mark a plan line starts with: `+` adds, `~` changes, `-` takes away. */
  symbol: '+' | '~' | '-';
  /** The review filters that show the kind (besides `all`). */
  categories: readonly ReviewCategory[];
  /** The removal threshold the kind counts against; none for kinds that remove nothing. */
  threshold?: RemovalThreshold;
  /**
   * The part of a sync the kind belongs to: mode `attributes` plans only users, mode `groups` only groups and
   * memberships.
   */
  part: 'users' | 'groups';
  /** Its counter in ChangeCounts. */
  counter: KindCounter;
  /** Kinds whose changes in the same plan this kind may refer to (and so must run after, and fails with). */
  dependsOn: readonly ChangeKind[];
}

/** The table. Declared in review order. */
export const CHANGE_KIND_TABLE: { readonly [K in ChangeKind]: ChangeKindFacts } = {
  'create-user': {
    phase: 1,
    applyOrder: 0,
    reviewOrder: 0,
    title: 'Create users',
    symbol: '+',
    categories: ['creates'],
    part: 'users',
    counter: 'create',
    dependsOn: [],
  },
  'update-user': {
    phase: 2,
    applyOrder: 1,
    reviewOrder: 1,
    title: 'Update users',
    symbol: '~',
    categories: ['updates'],
    part: 'users',
    counter: 'update',
    dependsOn: [],
  },
  'deactivate-user': {
    phase: 5,
    applyOrder: 5,
    reviewOrder: 2,
    title: 'Deactivate users',
    symbol: '-',
    categories: ['removals'],
    threshold: 'deletes',
    part: 'users',
    counter: 'deactivate',
    dependsOn: [],
  },
  'delete-user': {
    phase: 6,
    applyOrder: 6,
    reviewOrder: 3,
    title: 'Delete users',
    symbol: '-',
    categories: ['removals'],
    threshold: 'deletes',
    part: 'users',
    counter: 'delete',
    dependsOn: [],
  },
  'create-group': {
    phase: 3,
    applyOrder: 2,
    reviewOrder: 4,
    title: 'Create groups',
    symbol: '+',
    categories: ['creates', 'groups'],
    part: 'groups',
    counter: 'groupsCreated',
    dependsOn: [],
  },
  'add-member': {
    phase: 4,
    applyOrder: 3,
    reviewOrder: 5,
    title: 'Add members',
    symbol: '+',
    categories: ['groups'],
    part: 'groups',
    counter: 'membershipAdds',
    dependsOn: ['create-user', 'create-group'],
  },
  'remove-member': {
    phase: 4,
    applyOrder: 4,
    reviewOrder: 6,
    title: 'Remove members',
    symbol: '-',
    categories: ['removals', 'groups'],
    threshold: 'membershipRemovals',
    part: 'groups',
    counter: 'membershipRemovals',
    dependsOn: [],
  },
  'delete-group': {
    phase: 7,
    applyOrder: 7,
    reviewOrder: 7,
    title: 'Delete groups',
    symbol: '-',
    categories: ['removals', 'groups'],
    threshold: 'groupDeletes',
    part: 'groups',
    counter: 'groupsDeleted',
    dependsOn: [],
  },
};

/** The facts of one kind. */
export const kindFacts = (kind: ChangeKind): ChangeKindFacts => CHANGE_KIND_TABLE[kind];

/** Every kind, in the table's (review) order. */
export const CHANGE_KINDS = Object.keys(CHANGE_KIND_TABLE) as ChangeKind[];

/** The kinds in the order apply runs them and reports them. */
export const APPLY_ORDER: readonly ChangeKind[] = [...CHANGE_KINDS].sort(
  (a, b) => CHANGE_KIND_TABLE[a].applyOrder - CHANGE_KIND_TABLE[b].applyOrder,
);

/** The kinds in the order the review groups them. */
export const REVIEW_ORDER: readonly ChangeKind[] = [...CHANGE_KINDS].sort(
  (a, b) => CHANGE_KIND_TABLE[a].reviewOrder - CHANGE_KIND_TABLE[b].reviewOrder,
);

/** Whether a kind removes something (and so counts against a removal threshold). */
export const isRemoval = (kind: ChangeKind): boolean => CHANGE_KIND_TABLE[kind].threshold !== undefined;

/** The kinds a review filter shows, in review order (`all`: every kind). */
export function kindsIn(category: ReviewCategory | 'all'): ChangeKind[] {
  return REVIEW_ORDER.filter((k) => category === 'all' || CHANGE_KIND_TABLE[k].categories.includes(category));
}
