// Command-line grammar: `kubectl modelship [global flags] COMMAND [NAME] [flags]`. Pure: turns argv
// into an Invocation or throws a UsageError that says what is wrong and how to get help.
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

export const COMMANDS = [
  "status",
  "promote",
  "abort",
  "retry",
  "pause",
  "resume",
  "history",
  "undo",
  "version",
  "help",
] as const;
export type CommandName = (typeof COMMANDS)[number];

const OPTIONS = {
  namespace: { type: "string", short: "n" },
  kubeconfig: { type: "string" },
  context: { type: "string" },
  help: { type: "boolean", short: "h" },
  watch: { type: "boolean", short: "w" },
  full: { type: "boolean" },
  "to-revision": { type: "string" },
  "dry-run": { type: "boolean" },
  force: { type: "boolean" },
} as const;

type OptionName = keyof typeof OPTIONS;
const GLOBAL: readonly OptionName[] = ["namespace", "kubeconfig", "context", "help"];

/** Flags each command accepts besides the global ones. */
const COMMAND_OPTIONS: Record<CommandName, readonly OptionName[]> = {
  status: ["watch"],
  promote: ["full"],
  abort: [],
  retry: [],
  pause: [],
  resume: [],
  history: [],
  undo: ["to-revision", "dry-run", "force"],
  version: [],
  help: [],
};

const NEEDS_NAME: ReadonlySet<CommandName> = new Set([
  "status",
  "promote",
  "abort",
  "retry",
  "pause",
  "resume",
  "history",
  "undo",
]);

export interface ConnectionFlags {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
}

export interface Invocation {
  command: CommandName;
  /** The ModelDeployment, for commands that act on one. */
  name: string;
  connection: ConnectionFlags;
  /** `--help` given, or `help COMMAND`: print this command's help instead of running it. */
  help: boolean;
  /** For `help`: the command asked about, if any. */
  topic?: CommandName;
  watch: boolean;
  full: boolean;
  toRevision?: string;
  dryRun: boolean;
  force: boolean;
}

function isCommand(word: string): word is CommandName {
  return (COMMANDS as readonly string[]).includes(word);
}

const HINT = "run 'kubectl modelship help' for usage";

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
  } catch (err) {
    // node:util's messages name the flag but run on ("Unknown option '--foo'. To specify ..."):
    // keep the first sentence.
    const message = err instanceof Error ? (err.message.split(". ")[0] ?? err.message) : String(err);
    throw new UsageError(`${message.replace(/\.$/, "")}; ${HINT}`);
  }
}

export function parseInvocation(argv: readonly string[]): Invocation {
  const { values, positionals, tokens } = parseFlags(argv);
  const [word, ...rest] = positionals;
  if (word === undefined) {
    if (values.help) return base("help", "", values);
    throw new UsageError(`no command given; ${HINT}`);
  }
  if (!isCommand(word)) throw new UsageError(`unknown command "${word}"; ${HINT}`);

  if (word === "help") {
    const [topic, ...extra] = rest;
    if (extra.length > 0) throw new UsageError(`help takes at most one command, got: ${rest.join(" ")}`);
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command "${topic}"; ${HINT}`);
    return { ...base("help", "", values), ...(topic !== undefined ? { topic } : {}) };
  }
  const allowed = new Set<OptionName>([...GLOBAL, ...COMMAND_OPTIONS[word]]);
  for (const t of tokens) {
    if (t.kind === "option" && !allowed.has(t.name as OptionName)) {
      throw new UsageError(`${word} does not take --${t.name}; run 'kubectl modelship ${word} --help'`);
    }
  }
  const inv = base(word, "", values);
  if (inv.help) return inv;
  for (const flag of ["namespace", "kubeconfig", "context", "to-revision"] as const) {
    if (values[flag] === "") throw new UsageError(`--${flag} needs a value`);
  }
  if (NEEDS_NAME.has(word)) {
    if (rest.length === 0)
      throw new UsageError(`${word} needs the name of a ModelDeployment: kubectl modelship ${word} NAME`);
    if (rest.length > 1) throw new UsageError(`${word} takes one NAME, got: ${rest.join(" ")}`);
    inv.name = rest[0] ?? "";
  } else if (rest.length > 0) {
    throw new UsageError(`${word} takes no arguments, got: ${rest.join(" ")}`);
  }
  return inv;
}

function base(
  command: CommandName,
  name: string,
  values: Partial<Record<OptionName, string | boolean>>,
): Invocation {
  const str = (k: OptionName) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const connection: ConnectionFlags = {};
  const namespace = str("namespace");
  const kubeconfig = str("kubeconfig");
  const context = str("context");
  if (namespace !== undefined) connection.namespace = namespace;
  if (kubeconfig !== undefined) connection.kubeconfig = kubeconfig;
  if (context !== undefined) connection.context = context;
  const toRevision = str("to-revision");
  return {
    command,
    name,
    connection,
    help: values.help === true,
    watch: values.watch === true,
    full: values.full === true,
    ...(toRevision !== undefined ? { toRevision } : {}),
    dryRun: values["dry-run"] === true,
    force: values.force === true,
  };
}
