// A pseudo-terminal for e2e tests of interactive verbs (`kuke exec -it`, `kuke attach`, `kuke run -it`), made by
// python3's pty module: `python3 -c PTY_DRIVER STEPS CMD ARGS...` runs CMD under a pty of 30 rows and 100 columns
// and follows STEPS (JSON: [{ wait?: text, size?: [rows, cols], send?: text }]); it prints
// {"out": what CMD printed, "code": its exit code}.

/** Runs kuke under a pseudo-terminal that python makes (size 30x100), typing `script` lines; returns what it printed. */
export const PTY_DRIVER = `
import fcntl, json, os, pty, select, signal, struct, sys, termios, time
steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
def size(r, c): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
size(30, 100)
out = b''
def until(pat, t=20):
    global out
    end = time.time() + t
    while pat.encode() not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: out += os.read(fd, 65536)
            except OSError: return
for s in steps:
    if 'wait' in s: until(s['wait'])
    if 'size' in s: size(*s['size']); time.sleep(0.3)
    if 'send' in s: os.write(fd, s['send'].encode())
until('\\x00never', 3)
_, status = os.waitpid(pid, 0)
print(json.dumps({'out': out.decode('utf-8', 'replace'), 'code': os.waitstatus_to_exitcode(status)}))
`;
