// Preloaded by test/run.js into every test file, so that every failure prints its reason. uvu formats a failure
// with `err.details.split('\n')`: a KukeonError's `details` is an object, so uvu threw inside its own catch and
// its runner's `finally` swallowed that, printing no reason at all and skipping the file's remaining tests. A
// throw in a before/after hook vanished the same way, and a thrown non-Error (`err.name` undefined) too.
'use strict';
const util = require('node:util');
const uvu = require('uvu');

/** What the value says about itself, in one line uvu can print. */
function readable(err) {
  if (err instanceof Error && (err.details === undefined || err.details === false || typeof err.details === 'string')) return err;
  if (!(err instanceof Error)) return new Error(`threw a non-Error: ${util.inspect(err, { depth: 4, breakLength: Infinity })}`);
  const code = typeof err.code === 'string' ? ` [${err.code}]` : '';
  const cause = err.cause instanceof Error ? `; caused by ${err.cause.name}: ${err.cause.message}` : '';
  const out = new Error(`${err.name}${code}: ${err.message} (details ${JSON.stringify(err.details)})${cause}`);
  const frames = (err.stack ?? '').split('\n').slice(1).join('\n');
  out.stack = `${out.name}: ${out.message}\n${frames}`;
  return out;
}

/** The failed tests of this file so far: a failing after hook makes uvu exit before it prints them. */
const failed = [];

/** With KUKEON_TEST_TIMES=1, each test's wall time goes to stderr (to find where a suite's time goes). */
const times = process.env.KUKEON_TEST_TIMES === '1';

function guarded(fn, name) {
  if (typeof fn !== 'function') return fn;
  return async (...args) => {
    const started = Date.now();
    try {
      return await fn(...args);
    } catch (err) {
      const e = readable(err);
      failed.push(`${name}: ${e.stack ?? e.message}${typeof e.details === 'string' ? `\n${e.details}` : ''}`);
      throw e;
    } finally {
      if (times) process.stderr.write(`[time] ${Date.now() - started} ms  ${name}\n`);
    }
  };
}

/** uvu would swallow a hook's error: print it (and the tests that failed before it), then fail as uvu does. */
function hook(register, what) {
  return (fn) =>
    register(async (...args) => {
      const started = Date.now();
      try {
        return await fn(...args);
      } catch (err) {
        const e = readable(err);
        process.stdout.write(`\n  FAIL in ${what} hook: ${e.stack ?? e.message}\n`);
        for (const f of failed.splice(0)) process.stdout.write(`\n  FAIL (before the ${what} hook) ${f}\n`);
        throw e;
      } finally {
        if (times && !what.endsWith('.each')) process.stderr.write(`[time] ${Date.now() - started} ms  (${what} hook)\n`);
      }
    });
}

function wrap(t) {
  const w = (name, fn) => t(name, guarded(fn, name));
  w.only = (name, fn) => t.only(name, guarded(fn, name));
  w.skip = (...args) => t.skip(...args);
  w.run = () => t.run();
  w.before = hook(t.before, 'before');
  w.before.each = hook(t.before.each, 'before.each');
  w.after = hook(t.after, 'after');
  w.after.each = hook(t.after.each, 'after.each');
  return w;
}

const suite = uvu.suite;
uvu.suite = (...args) => wrap(suite(...args));
uvu.test = wrap(uvu.test);
