/**
 * The sync engine's data model: what the source of truth wants, what the target
 * has, and the plan between them. Plain data, no formatting, no I/O.
 */
import type { ScimGroup, ScimUser } from '../api/types.ts';
import type { AttributeChange } from '../api/update.ts';

/** Where a record came from, for every message about it. */
export interface Origin {
  file: string;
  line: number;
}

/** A user as the source of truth wants it. */
export interface DesiredUser {
  /** SCIM attributes the source manages; only these are compared and written. */
  attributes: Record<string, unknown>;
  /** Attributes written when the user is created, never compared afterwards (e.g. an initial password). */
  onlyOnCreate?: Record<string, unknown>;
  /** displayNames of the groups the source puts this user in (managed groups only). */
  groups?: string[];
  origin: Origin;
  /**
   * Set while the record is read lazily (SourceSnapshot.records): then `attributes` holds only
   * its identity (the attributes named externalId, userName, emails and active, in any case)
   * and `onlyOnCreate` is left out; SourceSnapshot.records.whole gives the rest. The planner
   * takes no such record (Settler.release loads or drops them).
   */
  stored?: number;
  /** Why the source cannot give this record as it is (an avatar file it cannot read …): the plan leaves it out. */
  problem?: string;
}

/** A record's attributes, whole. */
export interface WholeRecord {
  attributes: Record<string, unknown>;
  onlyOnCreate?: Record<string, unknown>;
}

/** Records kept in their file, not in memory, until they are needed (see source.ts, readSource's `lazy`). */
export interface StoredRecords {
  /** The whole attributes of a record with `stored` set (read again from its file; throws when the file changed). */
  whole(user: DesiredUser): WholeRecord;
  /** Lets go of the file; a later `whole` opens it again. */
  close(): void;
}

/** A group as the source of truth wants it. */
export interface DesiredGroup {
  displayName: string;
  externalId?: string;
  /**
   * Members as source user references: the value of the user's first match key
   * (externalId, userName or e-mail) as the source gives it. Undefined when the
   * group's members come from the users' `groups` instead.
   */
  members?: string[];
  origin: Origin;
}

export interface SourceSnapshot {
  users: DesiredUser[];
  groups: DesiredGroup[];
  /** A digest of the source content (sha256 hex), recorded in plans. */
  fingerprint: string;
  /** The files read, for messages and run history. */
  files: string[];
  /** Where records with `stored` set are kept (only when read with `lazy`). */
  records?: StoredRecords;
  /**
   * Records the source left out while reading (a directory entry without a userName …): the rest proceeds; the plan
   * shows them with its own.
   */
  problems?: RecordProblem[];
}

export interface TargetSnapshot {
  users: ScimUser[];
  groups: ScimGroup[];
  /**
   * Ids of users that every source record able to match them (if any) leaves certainly
   * unchanged: of those, only the identity is kept (id, version, userName, externalId, e-mail values,
   * active). See settle.ts.
   */
  settled?: ReadonlySet<string>;
  /**
   * The attribute paths the target's users carry, lower-cased: top-level names (`photos`),
   * sub-attributes (`addresses.primary`), extension attributes (`URN:attr`, `URN:attr.sub`).
   * See schema-fit.ts.
   */
  observed?: ReadonlySet<string>;
}

export type SyncMode = 'full' | 'attributes' | 'groups';
export type MissingPolicy = 'deactivate' | 'delete' | 'leave';
export type MatchKey = 'externalId' | 'userName' | 'email';

export interface PlanOptions {
  mode: SyncMode;
  /** What happens to managed users that are not in the source. */
  missing: MissingPolicy;
  /** Delete managed groups that are not in the source. */
  deleteGroups: boolean;
  /** Treat every target user and group as managed (adopt everything). */
  manageAll: boolean;
  /** Ids scimctl created or the source listed in an earlier run, per profile. */
  owned: ReadonlySet<string>;
  /** Groups scimctl created or the source named in an earlier run. */
  ownedGroups: ReadonlySet<string>;
  matchKeys: readonly MatchKey[];
}

/** A reference to a user in a plan: an existing target id, or the id of a create change in the same plan. */
export type UserRef = { id: string } | { change: string };
export type GroupRef = { id: string } | { change: string };

/** One attribute's change (PATCH path, before, after): the same shape single updates use. */
export type AttributeDiff = AttributeChange;

export type Change =
  | { id: string; kind: 'create-user'; userName: string; resource: Record<string, unknown>; origin: Origin }
  | {
      id: string;
      kind: 'update-user';
      target: string;
      userName: string;
      diffs: AttributeDiff[];
      reactivate: boolean;
      origin: Origin;
    }
  | { id: string; kind: 'deactivate-user'; target: string; userName: string }
  | { id: string; kind: 'delete-user'; target: string; userName: string }
  | { id: string; kind: 'create-group'; displayName: string; resource: Record<string, unknown>; origin: Origin }
  | { id: string; kind: 'add-member'; group: GroupRef; groupName: string; user: UserRef; userName: string }
  | { id: string; kind: 'remove-member'; group: GroupRef; groupName: string; user: UserRef; userName: string }
  | { id: string; kind: 'delete-group'; target: string; displayName: string };

export type ChangeKind = Change['kind'];

/** A source record that could not be planned; the rest of the plan proceeds. */
export interface RecordProblem {
  origin: Origin;
  message: string;
}

export interface PlanSummary {
  create: number;
  update: number;
  deactivate: number;
  delete: number;
  memberships: number;
  groupsCreated: number;
  groupsDeleted: number;
  /** Users the run manages (the base of the deletion threshold). */
  managed: number;
  /**
   * Memberships of users the source lists in the groups the run manages (the base of the membership-removal threshold).
   */
  managedMemberships?: number;
  /** Groups the run manages, those it could delete with --delete-groups (the base of the group-deletion threshold). */
  managedGroups?: number;
  /** Updates that set active=false because the source says so (counted by the deletion threshold too). */
  deactivatedBySource?: number;
}

export interface Plan {
  changes: Change[];
  problems: RecordProblem[];
  summary: PlanSummary;
  /**
   * Version (ETag, meta.version, lastModified or a content hash) of every target object a change touches, by `User/ID`
   * or `Group/ID`.
   */
  versions: Record<string, string>;
  /** Ids the source matched this run (they become owned once applied). */
  matched: string[];
  /** Target groups the source names (they become owned once applied). */
  matchedGroups: string[];
  /** How this plan was adapted to what the target does (write-only members, attributes it does not keep). */
  notes?: string[];
}
