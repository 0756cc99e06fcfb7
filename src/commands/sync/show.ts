import { colourPlanLines } from '../../output/colour.ts';
import { writeChunk } from '../../output/iostreams.ts';
import { renderPlan } from '../../output/plan.ts';
import { fromPlanFile } from '../../sync/plan-file.ts';
import { shellWord } from '../../util/shell-word.ts';
import { defineCommand } from '../context.ts';
import { loadPlanFile } from './apply.ts';

/**
 * `sync show PLAN`: a saved plan as `sync plan` printed it (or its JSON), checked whole as `sync apply` checks it.
 * Reads the file only: no profile, no server.
 */
export const syncShowCommand = defineCommand({
  command: 'show <plan>',
  describe: 'Print a saved plan (from "sync plan -o") as text or JSON, without contacting the server',
  builder: (y) =>
    y
      .positional('plan', { type: 'string', demandOption: true, describe: 'A plan file from "sync plan -o"' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the plan file as JSON' }),
  run: async (argv, f) => {
    const { file, edited } = await loadPlanFile(argv.plan, true);
    if (argv.json) await writeChunk(f.io.stdout, `${JSON.stringify(file, null, 2)}\n`);
    else await writeChunk(f.io.stdout, `${colourPlanLines(f.io.color, renderPlan(fromPlanFile(file))).join('\n')}\n`);
    const apply = `scimctl sync apply ${shellWord(argv.plan)}`;
    f.log(`planned ${file.createdAt} with profile "${file.profile}" against ${file.url}`);
    if (edited)
      f.log(
        `warning: ${argv.plan} was edited after it was planned; "${apply}" refuses it ` +
          `unless --allow-edited-plan is given`,
      );
  },
});
