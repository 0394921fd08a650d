// The two ways a command fails, mapped to exit codes in main.ts: a usage error (2) means the
// command line is wrong; a CliError (1) means the cluster or the object said no.

export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/** The command line itself is wrong: unknown command or flag, missing NAME. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The command was understood but failed; the message names the object and what failed. */
export class CliError extends Error {
  override readonly name = "CliError";
  /** The object does not exist (HTTP 404): retrying will not help. */
  readonly notFound: boolean;

  constructor(message: string, options: { notFound?: boolean } = {}) {
    super(message);
    this.notFound = options.notFound === true;
  }
}
