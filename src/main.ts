/** Bundle entry for the binary. */
import { run } from './cli.ts';

run();
