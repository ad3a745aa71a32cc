#!/usr/bin/env node
'use strict';
// Node 22.8+ can keep the compiled code of kukeon's modules between runs (a faster start); older Nodes skip it.
const mod = require('node:module');
if (typeof mod.enableCompileCache === 'function' && !process.env.NODE_COMPILE_CACHE && process.env.KUKEON_COMPILE_CACHE !== '0') {
  const path = require('node:path');
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || require('node:os').homedir(), '.cache');
  try {
    mod.enableCompileCache(path.join(base, 'kukeon', 'compile-cache'));
  } catch {
    // an unwritable cache directory only costs speed
  }
}
require('../dist/src/cli/index.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
