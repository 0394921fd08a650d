// Where commands write: stdout for results, stderr for warnings and errors. Injected so tests
// capture both and the status view knows whether it talks to a terminal.

export interface Output {
  line(text: string): void;
  err(text: string): void;
  /** Raw write to stdout, for redrawing a screen in place. */
  write(text: string): void;
  readonly isTTY: boolean;
}

export function processOutput(): Output {
  return {
    line: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    write: (text) => process.stdout.write(text),
    isTTY: process.stdout.isTTY === true,
  };
}
