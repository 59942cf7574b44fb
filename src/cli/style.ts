/**
 * Colours and a spinner for people at a terminal, and nothing for scripts: colour only
 * when stdout is a TTY (and NO_COLOR is not set, https://no-color.org), the spinner only
 * on a TTY stderr. Piped output stays plain text that other tools can parse.
 */
function colourOn(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  return stream.isTTY === true && process.env.TERM !== 'dumb';
}

const paint = (code: number) => (text: string) => (colourOn(process.stdout) ? `\u001b[${code}m${text}\u001b[0m` : text);

export const green = paint(32);
export const red = paint(31);
export const yellow = paint(33);
export const blue = paint(34);
export const dim = paint(2);
export const bold = paint(1);

/** Without colour codes: what a terminal shows (for padding columns). */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[\d+m/g, '').length;
}

/** An audit or approval status in its colour: ok green, waiting blue, refusals yellow, failures red. */
export function status(text: string): string {
  if (text === 'ok' || text === 'approved' || text === 'ready') return green(text);
  if (text === 'pending' || text === 'connecting') return blue(text);
  if (['quota', 'approval_denied', 'cancelled', 'expired', 'restarting', 'denied'].includes(text)) return yellow(text);
  return red(text);
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A spinner on stderr while `text()` describes the wait; `line` prints a result above it.
 * Without a terminal on stderr it only prints the lines.
 */
export function spinner(text: () => string): { line(text: string): void; stop(): void } {
  if (!process.stderr.isTTY) return { line: (t) => void process.stdout.write(t + '\n'), stop: () => undefined };
  let frame = 0;
  const clear = () => process.stderr.write('\r\u001b[2K');
  const draw = () => process.stderr.write(`\r\u001b[2K${FRAMES[frame++ % FRAMES.length]} ${text()}`);
  draw();
  const timer = setInterval(draw, 80);
  return {
    line: (t) => {
      clear();
      process.stdout.write(t + '\n');
      draw();
    },
    stop: () => {
      clearInterval(timer);
      clear();
    },
  };
}
