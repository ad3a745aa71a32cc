// What `kuke status` prints: one line per check, OK/WARN/FAIL, grouped by section; any FAIL makes the report fail.

export type StatusLevel = 'OK' | 'WARN' | 'FAIL';

export type StatusSection = 'daemon' | 'containerd' | 'cgroups' | 'cni' | 'store' | 'parity';

export interface StatusLine {
  section: StatusSection;
  check: string;
  status: StatusLevel;
  detail: string;
  remedy?: string;
}

export interface StatusReport {
  /** False when any line is FAIL (`kuke status` then exits 1). */
  ok: boolean;
  lines: StatusLine[];
}

export function reportOf(lines: StatusLine[]): StatusReport {
  return { ok: !lines.some((l) => l.status === 'FAIL'), lines };
}
