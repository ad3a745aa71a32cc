// Runs a command on a pseudo-terminal made by the test (python3's `pty` module): what the test writes goes to the
// terminal as typed keys, what the command prints comes back; the terminal's size is set before the command runs.
// Resolves the command's exit code (128+N on signal N).

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

const RELAY = `
import os, pty, sys, select, struct, fcntl, termios
rows, cols = int(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
stdin_open = True
while True:
    r, _, _ = select.select([fd] + ([0] if stdin_open else []), [], [])
    if 0 in r:
        data = os.read(0, 4096)
        if not data:
            stdin_open = False
        else:
            os.write(fd, data)
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;

export interface PtyProcess {
  child: ChildProcess;
  /** Everything printed so far. */
  output(): string;
  /** Types `keys` on the terminal. */
  type(keys: string): void;
  /** Resolves once `pattern` shows in the output (after `from`), or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp | string, timeoutMs?: number, from?: number): Promise<void>;
  readonly exited: Promise<number>;
}

export function spawnOnPty(cmd: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; rows?: number; cols?: number } = {}): PtyProcess {
  const child = spawn('python3', ['-c', RELAY, String(opts.rows ?? 24), String(opts.cols ?? 80), ...cmd], {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))));
  return {
    child,
    output: () => out,
    type: (keys) => void child.stdin!.write(keys),
    exited,
    async waitFor(pattern, timeoutMs = 10_000, from = 0) {
      const end = Date.now() + timeoutMs;
      const seen = () => (typeof pattern === 'string' ? out.slice(from).includes(pattern) : pattern.test(out.slice(from)));
      while (!seen()) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${pattern} on the terminal; it shows ${JSON.stringify(out.slice(-600))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
