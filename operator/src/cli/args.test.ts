import { describe, expect, it } from "vitest";
import { parseInvocation } from "./args.ts";
import { UsageError } from "./errors.ts";

describe("parseInvocation", () => {
  it("reads a command, its NAME and global flags in any order", () => {
    const inv = parseInvocation(["-n", "shop", "status", "recommender", "--watch", "--context", "kind-a"]);
    expect(inv).toMatchObject({
      command: "status",
      name: "recommender",
      watch: true,
      connection: { namespace: "shop", context: "kind-a" },
    });
  });

  it("reads command flags", () => {
    expect(parseInvocation(["promote", "r", "--full"])).toMatchObject({ command: "promote", full: true });
    expect(parseInvocation(["undo", "r", "--to-revision", "ad51", "--dry-run"])).toMatchObject({
      command: "undo",
      toRevision: "ad51",
      dryRun: true,
      force: false,
    });
  });

  it("treats --help and help COMMAND as a request for that command's page", () => {
    expect(parseInvocation(["promote", "--help"])).toMatchObject({ command: "promote", help: true });
    expect(parseInvocation(["help", "undo"])).toMatchObject({ command: "help", topic: "undo" });
    expect(parseInvocation(["--help"])).toMatchObject({ command: "help" });
  });

  it.each([
    [[], /no command given/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["promote"], /promote needs the name of a ModelDeployment/],
    [["abort", "a", "b"], /abort takes one NAME, got: a b/],
    [["status", "r", "--full"], /status does not take --full/],
    [["promote", "r", "--bogus"], /^Unknown option '--bogus'; run 'kubectl modelship help'/],
    [["status", "r", "-n"], /'-n, --namespace <value>' argument missing/],
    [["version", "extra"], /version takes no arguments/],
    [["help", "nope"], /unknown command "nope"/],
    [["status", "r", "--namespace="], /--namespace needs a value/],
  ])("rejects %j with a usage error", (argv, message) => {
    expect(() => parseInvocation(argv)).toThrow(UsageError);
    expect(() => parseInvocation(argv)).toThrow(message);
  });
});
