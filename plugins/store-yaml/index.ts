// store-yaml: the built-in store. Every resource is a YAML document under the run path (see layout.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { definePlugin, type Diagnosis } from '../../sdk';
import { cleanStrayTemps } from './atomic-write';
import { YamlStore } from './yaml-store';

export default definePlugin({
  name: 'store-yaml',
  version: packageVersion(),
  slot: 'store',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  apply(host) {
    const runPath = host.paths.runPath;
    const store = new YamlStore(runPath, host.locks);
    host.services.provide('store', store);
    host.services.provide('store.diagnose', {
      async diagnose(): Promise<Diagnosis[]> {
        return [await checkRunPath(runPath), await checkStrayTemps(runPath)];
      },
    });
  },
});

/** The nearest package.json above this file (the plugin's own if it ships one, else kukeon's). */
function packageVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      if (typeof pkg.version === 'string') return pkg.version;
    } catch {
      // none here: look one level up
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return '0.1.0';
}

async function checkRunPath(runPath: string): Promise<Diagnosis> {
  const check = 'store.run-path';
  const remedy = 'run as root, or choose a writable --run-path';
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(runPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { check, status: 'error', detail: `cannot inspect ${runPath}: ${(e as Error).message}`, remedy };
    }
    // Absent is fine if the first write can create it: look at the nearest directory that exists.
    let ancestor = path.dirname(runPath);
    while (!fs.existsSync(ancestor) && path.dirname(ancestor) !== ancestor) ancestor = path.dirname(ancestor);
    if (await writable(ancestor)) return { check, status: 'warn', detail: `${runPath} does not exist yet; it will be created` };
    return { check, status: 'error', detail: `${runPath} does not exist and ${ancestor} is not writable`, remedy };
  }
  if (!stat.isDirectory()) return { check, status: 'error', detail: `${runPath} is not a directory`, remedy: 'choose another --run-path' };
  if (!(await writable(runPath))) return { check, status: 'error', detail: `${runPath} is not writable`, remedy };
  return { check, status: 'ok', detail: `${runPath} exists and is writable` };
}

/** Temp files are what a crash between write and rename leaves; they are never read, only cleaned here. */
async function checkStrayTemps(runPath: string): Promise<Diagnosis> {
  const check = 'store.stray-temps';
  try {
    const removed = await cleanStrayTemps(runPath, { recursive: true });
    const detail = removed.length === 0 ? 'no stray temp files' : `removed ${removed.length} stray temp file(s) left by interrupted writes`;
    return { check, status: 'ok', detail };
  } catch (e) {
    return { check, status: 'warn', detail: `cannot clean stray temp files under ${runPath}: ${(e as Error).message}` };
  }
}

async function writable(dir: string): Promise<boolean> {
  try {
    await fs.promises.access(dir, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
