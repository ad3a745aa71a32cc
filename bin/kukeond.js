#!/usr/bin/env node
'use strict';
require('../dist/src/daemon/kukeond.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exit(code);
  });
