// One execution of a CNI plugin binary, per the specification's execution protocol: the parameters in
// CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH, the network configuration as JSON
// on stdin, a result (or nothing) as JSON on stdout with exit 0, or an error object on stdout with a non-zero exit.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { CniError } from './cni-error';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface CniInvocation {
  /** Absolute path of the plugin binary. */
  binary: string;
  command: CniCommand;
  containerId?: string;
  /** Network namespace path; empty or undefined leaves CNI_NETNS unset (allowed for DEL). */
  netns?: string;
  ifname?: string;
  /** CNI_ARGS: `K=V;K2=V2`. */
  args?: string;
  /** CNI_PATH: where the plugin finds the plugins it delegates to (the bridge runs host-local). */
  path: readonly string[];
  /** The plugin's configuration, written to stdin. */
  config: unknown;
  /** A command line the binary runs under (tests: `nsenter --net=/run/netns/NAME`). */
  prefix?: readonly string[];
  timeoutMs?: number;
}

/** The parsed JSON a plugin printed on success (undefined when it printed nothing); throws CniError otherwise. */
export function invokeCni(inv: CniInvocation): Promise<unknown> {
  const plugin = path.basename(inv.binary);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CNI_')) env[k] = v;
  env.CNI_COMMAND = inv.command;
  env.CNI_PATH = inv.path.join(':');
  if (inv.command !== 'VERSION') {
    if (inv.containerId) env.CNI_CONTAINERID = inv.containerId;
    if (inv.netns) env.CNI_NETNS = inv.netns;
    if (inv.ifname) env.CNI_IFNAME = inv.ifname;
    if (inv.args) env.CNI_ARGS = inv.args;
  }
  const [cmd, ...cmdArgs] = [...(inv.prefix ?? []), inv.binary];
  const timeoutMs = inv.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    // Its own process group: a hung plugin is killed with whatever it started (a child that keeps its stdout
    // open would otherwise hold the result back long after the plugin itself was killed).
    const child = spawn(cmd, cmdArgs, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let settled = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      settled = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      child.stdout.destroy();
      child.stderr.destroy();
      reject(new CniError(plugin, inv.command, undefined, `did not finish within ${timeoutMs} ms (killed)`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new CniError(plugin, inv.command, undefined, `cannot run ${inv.binary}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      const out = stdout.trim();
      if (code === 0) {
        if (!out) return resolve(undefined);
        try {
          return resolve(JSON.parse(out));
        } catch {
          return reject(new CniError(plugin, inv.command, undefined, `printed a result that is not JSON: ${out.slice(0, 200)}`));
        }
      }
      let error: { code?: unknown; msg?: unknown; details?: unknown } | undefined;
      try {
        error = JSON.parse(out);
      } catch {
        error = undefined;
      }
      if (error && typeof error === 'object' && (typeof error.code === 'number' || typeof error.msg === 'string')) {
        return reject(
          new CniError(
            plugin,
            inv.command,
            typeof error.code === 'number' ? error.code : undefined,
            String(error.msg ?? 'no message'),
            typeof error.details === 'string' && error.details ? error.details : undefined,
          ),
        );
      }
      const why = stderr.trim() || out || `exited ${code ?? signal}`;
      reject(new CniError(plugin, inv.command, undefined, why.slice(0, 500)));
    });
    child.stdin.on('error', () => undefined); // a plugin may exit without reading its config
    child.stdin.end(JSON.stringify(inv.config));
  });
}
