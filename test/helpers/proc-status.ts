import fs from 'node:fs';

/** The fields of /proc/<pid>/status (`VmHWM` is "123 kB", `CapEff` a hex mask). */
export function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return out;
}
