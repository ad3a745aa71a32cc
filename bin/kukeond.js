#!/usr/bin/env node
'use strict';
// The daemon (api-socket plugin, `kukeond serve`) is not built yet; until it is, every kuke command runs in-process.
process.stderr.write('kukeond: the daemon is not implemented in this build; run kuke commands in-process (they are by default)\n');
process.exitCode = 1;
