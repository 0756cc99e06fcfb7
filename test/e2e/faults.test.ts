/**
 * A sync of a few thousand users with groups through an unreliable network and an overloaded
 * server: `scimctl serve` behind the quirk proxy with its faults on (500s before and after the
 * server acted, 429 with Retry-After, connections reset before and after acting, stalls longer
 * than the client's timeout, bodies cut short, list pages short or empty with a totalResults
 * that says more), seeded so a run is reproducible. With Bulk and without, the sync must
 * converge within three runs with no user or group made twice and no user the source lists
 * deactivated or deleted; then a plan made straight against the server (no proxy) is empty,
 * and plans made through the faults (listings of every user, with pages lost on the way) plan
 * nothing: they are empty or fail as an incomplete read.
 * The figures (faults per kind, runs, duplicates, removals) are printed as diagnostics.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FAULT_KINDS, startQuirkProxy, type FaultKind, type Faults, type QuirkProxy } from '../support/quirk-proxy.ts';
import { runCli, serverEnv, tempHome, type RunResult } from './helpers.ts';
import { startServe, teardown, type Json, type ServeProcess } from './serve-helpers.ts';

const TOKEN = 'faults-e2e-token-5d2e90';
const USERS = 2000;
const TEAMS = 20;
/** Seconds: stalls (stallMs) are longer, so each costs about this much. */
const TIMEOUT_S = 1;

/**
 * The faults, per mode. With Bulk the sync itself sends few requests (a few Bulk POSTs and
 * PATCHes), so the rates are higher there; list pages are faulted mostly in the plans made
 * through the proxy after convergence (each lists every user). Decisions are seeded hashes of
 * each request; the server's ids are random, so bodies that carry them (group members) draw
 * differently from run to run: the rates are set so that every kind is met in every run.
 */
function faultsFor(mode: 'bulk' | 'no-bulk'): Faults {
  const r = mode === 'bulk' ? 0.03 : 0.01;
  return {
    seed: 20261202 + (mode === 'bulk' ? 0 : 1),
    rates: {
      error500Before: r,
      rateLimit429: r,
      resetBefore: r,
      error500After: r,
      resetAfter: r,
      stall: mode === 'bulk' ? 0.02 : 0.004,
      truncated: 0.03,
      shortPage: 0.1,
      // Target users are read 1,000 a page: a few pages a read, so empty pages need a higher rate to be met at all.
      emptyPage: 0.3,
    },
    max: {
      error500Before: 30,
      rateLimit429: 30,
      resetBefore: 30,
      error500After: 30,
      resetAfter: 30,
      stall: 4,
      truncated: 40,
      shortPage: 60,
      emptyPage: 60,
    },
    stallMs: TIMEOUT_S * 1000 + 500,
    retryAfterSeconds: 1,
  };
}

const userName = (i: number) => `user${String(i).padStart(4, '0')}@faults.example.com`;

/** The source: USERS people in TEAMS teams, every seventh also in "Leads". */
function sourceFile(): string {
  const Resources = Array.from({ length: USERS }, (_, i) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    externalId: `emp-${i}`,
    userName: userName(i),
    name: { givenName: `G${i}`, familyName: `F${i}` },
    emails: [{ value: userName(i), type: 'work', primary: true }],
    active: true,
    groups: [{ display: `Team ${i % TEAMS}` }, ...(i % 7 === 0 ? [{ display: 'Leads' }] : [])],
  }));
  return JSON.stringify({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: Resources.length,
    Resources,
  });
}

interface Figures {
  mode: string;
  runs: number;
  exitCodes: number[];
  faults: Record<FaultKind, number>;
  faultsTotal: number;
  requests: number;
  duplicateUsers: number;
  duplicateGroups: number;
  unintendedRemovals: number;
  seconds: number;
}

for (const mode of ['bulk', 'no-bulk'] as const) {
  describe(
    `a ${USERS}-user sync with groups through injected faults ` + `(${mode === 'bulk' ? 'with Bulk' : '--no-bulk'})`,
    () => {
      let server: ServeProcess | undefined;
      let proxy: QuirkProxy | undefined;
      let home: ReturnType<typeof tempHome>;

      before(async () => {
        server = await startServe({ token: TOKEN });
        proxy = await startQuirkProxy(server.url, {}, faultsFor(mode));
        home = tempHome();
      });
      after(async () => {
        await proxy?.close();
        await teardown([server]);
        home?.cleanup();
      });

      /** Every resource of an endpoint on the server itself (no proxy). */
      const upstreamAll = async (endpoint: string): Promise<Json[]> => {
        const all: Json[] = [];
        for (let start = 1; ;) {
          const r = await server!.request('GET', `${endpoint}?count=1000&startIndex=${start}`);
          assert.equal(r.status, 200);
          if (r.body.Resources.length === 0) return all;
          all.push(...r.body.Resources);
          start += r.body.Resources.length;
        }
      };

      test(
        'converges within three runs: no duplicates, no unintended removals, then an ' +
          'empty plan straight to the server',
        async (t) => {
          const started = Date.now();
          const file = join(home.dir, 'people.json');
          writeFileSync(file, sourceFile());
          const data = { SCIMCTL_DATA_DIR: join(home.dir, 'data') };
          const viaProxy = { ...serverEnv(proxy!.url, TOKEN, home), ...data };
          const direct = { ...serverEnv(server!.url, TOKEN, home), ...data };
          const flags = [
            '--timeout',
            String(TIMEOUT_S),
            '--concurrency',
            '8',
            ...(mode === 'no-bulk' ? ['--no-bulk'] : []),
          ];

          const exitCodes: number[] = [];
          const log: string[] = [];
          let plan: RunResult | undefined;
          let runs = 0;
          while (runs < 3) {
            runs++;
            const runStarted = Date.now();
            const run = await runCli(['sync', 'run', '--source', file, '--yes', ...flags], {
              env: viaProxy,
              timeoutMs: 120_000,
            });
            exitCodes.push(run.code ?? -1);
            log.push(
              `run ${runs}: exit ${run.code} after ${((Date.now() - runStarted) / 1000).toFixed(1)} s\n${run.stderr
                .split('\n')
                .filter((l) => /applied|failed|error|incomplete|listing/i.test(l))
                .slice(0, 8)
                .join('\n')}`,
            );
            // Converged: the server, read directly, holds what the source says.
            plan = await runCli(['sync', 'plan', '--source', file, '--detailed-exitcode'], {
              env: direct,
              timeoutMs: 120_000,
            });
            if (plan.code === 0) break;
          }

          // Plans through the faults once the server holds everything: a listing of 2,000 users met
          // with empty and short pages must never plan a change (empty plan, or a failed read).
          const convergedFaults = { ...proxy!.stats.faults };
          const planCodes: number[] = [];
          for (let i = 0; i < 3; i++) {
            const p = await runCli(
              ['sync', 'plan', '--source', file, '--detailed-exitcode', '--timeout', String(TIMEOUT_S)],
              { env: viaProxy, timeoutMs: 120_000 },
            );
            planCodes.push(p.code ?? -1);
            if (p.code !== 0)
              log.push(`plan through faults: exit ${p.code}\n${p.stdout.slice(0, 1500)}\n${p.stderr.slice(0, 600)}`);
          }
          const planFaults = Object.fromEntries(
            FAULT_KINDS.map((k) => [k, proxy!.stats.faults[k] - convergedFaults[k]]),
          );

          const users = await upstreamAll('/Users');
          const groups = await upstreamAll('/Groups');
          const names = users.map((u) => String(u.userName).toLowerCase());
          const duplicateUsers = names.length - new Set(names).size;
          const groupNames = groups.map((g) => String(g.displayName));
          const duplicateGroups = groupNames.length - new Set(groupNames).size;
          const byName = new Map(users.map((u) => [String(u.userName).toLowerCase(), u]));
          let unintendedRemovals = 0;
          for (let i = 0; i < USERS; i++) {
            const u = byName.get(userName(i));
            if (u === undefined || u.active === false) unintendedRemovals++;
          }
          const faults = convergedFaults;
          const figures: Figures = {
            mode,
            runs,
            exitCodes,
            faults,
            faultsTotal: FAULT_KINDS.reduce((sum, k) => sum + faults[k], 0),
            requests: proxy!.stats.requests,
            duplicateUsers,
            duplicateGroups,
            unintendedRemovals,
            seconds: Math.round((Date.now() - started) / 100) / 10,
          };
          t.diagnostic(`figures ${JSON.stringify(figures)}`);
          t.diagnostic(
            `plans through the faults after convergence: exit codes ` +
              `${planCodes.join(', ')} (0 = no changes, 3 = changes, 1 or 6 = the read ` +
              `failed); faults met ${JSON.stringify(planFaults)}`,
          );
          for (const line of log) t.diagnostic(line.replace(/\n/g, ' | '));

          assert.equal(
            plan?.code,
            0,
            `no empty plan after ${runs} runs:\n${plan?.stdout.slice(0, 2000)}\n${log.join('\n')}`,
          );
          assert.ok(runs <= 3);
          assert.equal(duplicateUsers, 0, 'no user twice');
          assert.equal(duplicateGroups, 0, `no group twice: ${groupNames.sort().join(', ')}`);
          assert.equal(unintendedRemovals, 0, 'every user the source lists is there and active');
          assert.equal(users.length, USERS);
          assert.equal(groups.length, TEAMS + 1);
          // Membership arrived whole: every team has its people, Leads every seventh.
          const members = new Map(groups.map((g) => [g.displayName as string, (g.members ?? []).length as number]));
          for (let team = 0; team < TEAMS; team++)
            assert.equal(members.get(`Team ${team}`), USERS / TEAMS, `Team ${team}`);
          assert.equal(members.get('Leads'), Math.ceil(USERS / 7));
          // No plan through the faults planned a change: each was empty or failed as a read.
          assert.ok(
            planCodes.every((c) => c === 0 || c === 1 || c === 6),
            `plans through the faults: ${planCodes.join(', ')}\n${log.join('\n')}`,
          );
          assert.ok(planCodes.includes(0), 'at least one plan through the faults read everything');
          // The faults did happen, every kind of them (over the runs and the plans).
          const all = proxy!.stats.faults;
          for (const kind of FAULT_KINDS)
            assert.ok(all[kind] > 0, `some ${kind} faults were injected: ${JSON.stringify(all)}`);
        },
      );
    },
  );
}
