// The plugin's own test: kukeon's store conformance kit, one node:test test per case. `npm install` links
// kukeon (a dev dependency), then `npm test`.
const test = require('node:test');
const { storeConformanceTests } = require('kukeon/sdk/testkit');

storeConformanceTests(test, { plugin: __dirname });
