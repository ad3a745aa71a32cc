// Preloaded (NODE_OPTIONS=--require) into a kuke the hostile-input suite measures: at exit, the process's own
// peak RSS (getrusage's ru_maxrss, in KiB) as one stderr line the suite reads and removes.

import fs from 'node:fs';

process.on('exit', () => {
  fs.writeSync(2, `KUKE_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
