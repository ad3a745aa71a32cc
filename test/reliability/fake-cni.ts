// A CNI plugin that misbehaves on command: a shell script installed under a real plugin's name in a directory
// searched before the real ones. Its control file says `<action> <match>`: on ADD for a container id containing
// `<match>` it fails with an error object (`fail`), hangs with a child holding its stdout (`hang`), or prints
// garbage (`garbage`, `badjson`); everything else (and `pass`) runs the real plugin.

import fs from 'node:fs';
import path from 'node:path';

export type FakeAction = 'pass' | 'fail' | 'hang' | 'garbage' | 'badjson';

/** The sleep a hung plugin leaves running: its argument marks it, so a test can look for survivors. */
export const HANG_MARK = '3517';

export class FakeCni {
  constructor(
    readonly dir: string,
    readonly plugin: string,
    realDir: string,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    const script = `#!/bin/sh
set -- $(cat "${this.control}" 2>/dev/null)
if [ "$CNI_COMMAND" = ADD ] && [ -n "$2" ]; then
  case "$CNI_CONTAINERID" in
    *"$2"*)
      cat >/dev/null
      case "$1" in
        fail) echo '{"cniVersion":"1.0.0","code":999,"msg":"injected failure","details":"fault test"}'; exit 1 ;;
        hang) sleep ${HANG_MARK} & wait; exit 0 ;;
        garbage) printf 'not json at all \\001\\002\\n'; exit 0 ;;
        badjson) echo '{"cniVersion":"1.0.0","interfaces":"eth0","ips":[{"address":12}]}'; exit 0 ;;
      esac ;;
  esac
fi
exec "${path.join(realDir, plugin)}"
`;
    fs.writeFileSync(path.join(dir, plugin), script, { mode: 0o755 });
    this.set('pass');
  }

  private get control(): string {
    return path.join(this.dir, `${this.plugin}.control`);
  }

  set(action: FakeAction, match = ''): void {
    fs.writeFileSync(this.control, `${action} ${match}\n`);
  }
}
