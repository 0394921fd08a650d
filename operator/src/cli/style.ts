// Colour for a person at a terminal, plain text for pipes, logs and NO_COLOR (https://no-color.org).

export type Paint = (text: string) => string;

export interface Style {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

const same: Paint = (text) => text;

export const PLAIN: Style = Object.freeze({
  bold: same,
  dim: same,
  red: same,
  green: same,
  yellow: same,
  cyan: same,
});

const sgr =
  (on: number, off: number): Paint =>
  (text) =>
    text === "" ? text : `\x1b[${on}m${text}\x1b[${off}m`;

export const ANSI: Style = Object.freeze({
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
});

export function chooseStyle(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return isTTY && !noColor && env.TERM !== "dumb" ? ANSI : PLAIN;
}

/** Colour of a phase, verdict or condition word: good green, waiting yellow, bad red. */
export function paintWord(style: Style, word: string): string {
  switch (word) {
    case "Healthy":
    case "Pass":
    case "Promoted":
      return style.green(word);
    case "Progressing":
      return style.cyan(word);
    case "Paused":
    case "Inconclusive":
    case "Superseded":
      return style.yellow(word);
    case "Degraded":
    case "Fail":
    case "Aborted":
    case "RolledBack":
      return style.red(word);
    default:
      return word;
  }
}
