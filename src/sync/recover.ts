/**
 * What a killed run leaves behind, put right by the next run of its profile: the journal of
 * each interrupted run (history.ts marks them) is folded into the profile's state before it is
 * loaded for planning, so the users and groups that run created are owned (a later source
 * without them deactivates them), and the member ledger of a write-only target has what it
 * added. Each journal is folded once (folding again would change nothing either).
 */
import { RunHistory, type RunRecord } from './history.ts';
import { countFacts, foldJournal, readJournal } from './journal.ts';
import { loadState, saveState } from './state.ts';

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** Folds the journals of the profile's interrupted runs into its state; returns the runs folded, oldest first. */
export function foldInterruptedRuns(dir: string, profile: string, url: string): RunRecord[] {
  const history = new RunHistory(dir);
  history.markInterrupted();
  const runs = history
    .list()
    .filter(
      (r) => r.status === 'interrupted' && r.journalFolded === false && r.profile === profile && sameUrl(r.url, url),
    )
    .reverse();
  const folded: RunRecord[] = [];
  for (const run of runs) {
    const journal = readJournal(history.journalFile(run.id));
    // A run that applied nothing adopted nothing either: only an applied run makes what the source matched owned.
    if (
      journal &&
      journal.header.profile === profile &&
      sameUrl(journal.header.url, url) &&
      countFacts(journal.facts).applied > 0
    ) {
      saveState(dir, foldJournal(loadState(dir, profile, url), journal.header, journal.facts));
    }
    run.journalFolded = true;
    history.save(run);
    folded.push(run);
  }
  return folded;
}
