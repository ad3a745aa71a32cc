// `kuke image pull` progress on a terminal, like `docker pull`: one line per layer rewritten in place and a total.
// The events are the containerd plugin's pull progress (plugins/containerd/image/pull.ts), typed loosely here.

import { type TerminalStream, terminalAbilities } from './terminal';

type PullProgress =
  | { kind: 'resolved'; name: string; digest: string }
  | { kind: 'fetch'; digest: string; size: number; what: 'config' | 'layer'; action: 'present' | 'start' | 'resume'; offset?: number }
  | { kind: 'bytes'; digest: string; done: number; size: number }
  | { kind: 'fetched'; digest: string; size: number }
  | { kind: 'layer'; digest: string }
  | { kind: 'other' };

/**
 * Renders pull progress like `docker pull` on a terminal (one line per layer, rewritten in place, and a
 * total); returns undefined when the stream is not a TTY, or TERM=dumb (quiet).
 */
export function ttyProgress(
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  env: NodeJS.ProcessEnv = process.env,
): ((e: PullProgress) => void) | undefined {
  if (!terminalAbilities(out as TerminalStream, env).redraw) return undefined;
  const rows = new Map<string, { status: string; done: number; size: number }>();
  let drawn = 0;
  const human = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)}MB` : n >= 1024 ? `${(n / 1024).toFixed(1)}kB` : `${n}B`);
  const bar = (done: number, size: number) => {
    const w = 30;
    const f = size ? Math.min(w, Math.floor((done / size) * w)) : w;
    return `[${'='.repeat(Math.max(0, f - 1))}${f ? '>' : ''}${' '.repeat(w - f)}] ${human(done)}/${human(size)}`;
  };
  let last = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let s = drawn ? `\x1b[${drawn}A` : '';
    let total = 0;
    let done = 0;
    for (const [digest, r] of rows) {
      total += r.size;
      done += r.done;
      s += `\x1b[2K${digest.replace(/^sha256:/, '').slice(0, 12)}: ${r.status}${r.status === 'Downloading' ? ` ${bar(r.done, r.size)}` : ''}\n`;
    }
    s += `\x1b[2Ktotal: ${bar(done, total)}\n`;
    drawn = rows.size + 1;
    out.write(s);
  };
  return (e) => {
    if (e.kind === 'fetch' && e.what === 'layer')
      rows.set(e.digest, {
        status: e.action === 'present' ? 'Already exists' : 'Downloading',
        done: e.action === 'present' ? e.size : (e.offset ?? 0),
        size: e.size,
      });
    else if (e.kind === 'bytes') {
      const r = rows.get(e.digest);
      if (r) r.done = e.done;
    } else if (e.kind === 'fetched') {
      const r = rows.get(e.digest);
      if (r) Object.assign(r, { status: 'Download complete', done: r.size });
    } else if (e.kind === 'layer') {
      const r = rows.get(e.digest);
      if (r) r.status = 'Pull complete';
    } else if (e.kind === 'resolved') {
      out.write(`${e.name}: resolved ${e.digest}\n`);
      return;
    } else return;
    draw(e.kind !== 'bytes');
  };
}
