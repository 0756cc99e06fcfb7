// Preloaded into a measured process (node --import): reports its peak RSS and its CPU time on exit.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  const usage = process.resourceUsage();
  writeSync(2, `\nBENCH_MAX_RSS_KB=${usage.maxRSS}\nBENCH_CPU_USER_US=${usage.userCPUTime}\n`);
});
