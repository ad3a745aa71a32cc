// What a command may do to the terminal its output goes to: redraw lines in place (a TTY whose TERM moves the
// cursor; TERM=dumb cannot) and colour them (as well, unless NO_COLOR is set: https://no-color.org).

/** The parts of a stdout a live display uses (a tty.WriteStream has them all; a pipe has write only). */
export interface TerminalStream {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  write(text: string): unknown;
}

export interface TerminalAbilities {
  redraw: boolean;
  color: boolean;
}

export function terminalAbilities(stream: TerminalStream, env: NodeJS.ProcessEnv = process.env): TerminalAbilities {
  const redraw = stream.isTTY === true && env.TERM !== 'dumb';
  return { redraw, color: redraw && !env.NO_COLOR };
}
