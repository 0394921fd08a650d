// Help text: one overview and one page per command, each with the plain-kubectl equivalent so a
// person (or a script) never depends on this plugin to operate a rollout.
import type { CommandName } from "./args.ts";

const GLOBAL_FLAGS = `Global flags:
  -n, --namespace NS    namespace of the ModelDeployment (default: the kubeconfig context's, else "default")
      --kubeconfig PATH kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME    kubeconfig context to use (default: the current context)
  -h, --help            help for a command`;

export const OVERVIEW = `kubectl modelship: watch and steer ModelDeployment rollouts (modelship.dev/v1alpha1).

Usage: kubectl modelship COMMAND [NAME] [flags]

Commands:
  status NAME [--watch]        phase, steps, traffic, replicas and health of one ModelDeployment
  promote NAME [--full]        skip the current step (--full: all remaining steps)
  abort NAME                   move all traffic back to stable and reject the canary revision
  retry NAME                   start a rejected revision again
  pause NAME                   hold the rollout where it is (timers stop)
  resume NAME                  release a pause
  history NAME                 finished revisions: promoted, aborted, superseded, rolled back
  undo NAME [--to-revision R]  CHANGES SPEC back to an earlier model version and image
  version                      print the plugin version
  help [COMMAND]               this text, or a command's

promote, abort, retry, pause and resume only set annotations on the object: they never touch
spec, so Argo CD and Flux show no drift. undo is the one command that edits spec.

Exit codes: 0 ok, 1 the cluster or the object refused, 2 wrong command line.

${GLOBAL_FLAGS}`;

const PAGES: Record<CommandName, string> = {
  status: `Usage: kubectl modelship status NAME [--watch]

Shows phase and message, model version, stable and canary revisions, the rollout steps with the
current one marked (time left on a timed pause), traffic weight, ready/desired pods per revision,
the prober's health per revision (success rate, p50/p99, samples, verdict, last error), pending
manual requests, the rejected revision and the conditions.

  -w, --watch   redraw every second until Ctrl-C

Plain kubectl: kubectl get mdep NAME -o yaml; kubectl get deploy -l modelship.dev/deployment=NAME`,
  promote: `Usage: kubectl modelship promote NAME [--full]

Ends the current step (a pause, including an indefinite one) and moves to the next. With --full,
skips every remaining step and promotes the canary to stable once it is Ready. The request is an
annotation whose value is a fresh id; the operator acts on each id once.

      --full    skip all remaining steps

Plain kubectl:
  kubectl annotate mdep NAME modelship.dev/promote=$(date -u +%FT%T.%3NZ) --overwrite
  kubectl annotate mdep NAME modelship.dev/promote-full=$(date -u +%FT%T.%3NZ) --overwrite`,
  abort: `Usage: kubectl modelship abort NAME

Restores stable to full Ready capacity, moves all traffic to it and rejects the canary revision:
it is not started again until the spec changes or you run retry.

Plain kubectl: kubectl annotate mdep NAME modelship.dev/abort=$(date -u +%FT%T.%3NZ) --overwrite`,
  retry: `Usage: kubectl modelship retry NAME

Starts a rejected (aborted) revision again from the first step.

Plain kubectl: kubectl annotate mdep NAME modelship.dev/retry=$(date -u +%FT%T.%3NZ) --overwrite`,
  pause: `Usage: kubectl modelship pause NAME

Holds the rollout where it is: no step advances, pause timers and the progress deadline stop.
Level-triggered: it lasts until resume.

Plain kubectl: kubectl annotate mdep NAME modelship.dev/paused=true --overwrite`,
  resume: `Usage: kubectl modelship resume NAME

Removes the pause annotation; timers continue where they stopped.

Plain kubectl: kubectl annotate mdep NAME modelship.dev/paused-`,
  history: `Usage: kubectl modelship history NAME

Lists status.history, newest first: revision, model version, image, outcome (Promoted, Aborted,
Superseded, RolledBack), reason, time and message.

Plain kubectl: kubectl get mdep NAME -o jsonpath='{range .status.history[*]}{.revision}{"\\t"}{.outcome}{"\\t"}{.modelVersion}{"\\n"}{end}'`,
  undo: `Usage: kubectl modelship undo NAME [--to-revision REV] [--dry-run] [--force]

THIS CHANGES SPEC. Sets spec.model.version and spec.runtime.image back to those of an earlier
revision in status.history (default: the last Promoted revision before the current stable). The
operator then rolls that revision out like any other change, through the steps.

If you manage the object with Git (Argo CD, Flux), revert the commit instead: the next sync would
undo this edit, and Argo CD shows the object OutOfSync until then.

undo refuses when history lacks the model version or image, and when other fields that shape the
pods (model.uri, runtime args/env/resources, template) changed since, so the result would be a new
revision rather than REV (--force applies version and image anyway).

      --to-revision REV   the revision to go back to (a unique prefix is enough)
      --dry-run           print the change without making it
      --force             apply even if the result is not exactly REV

Plain kubectl:
  kubectl patch mdep NAME --type merge -p '{"spec":{"model":{"version":"V"},"runtime":{"image":"I"}}}'`,
  version: `Usage: kubectl modelship version

Prints the plugin version and the API version it speaks.`,
  help: `Usage: kubectl modelship help [COMMAND]`,
};

export function helpFor(command: CommandName | undefined): string {
  if (command === undefined || command === "help") return OVERVIEW;
  return `${PAGES[command]}\n\n${GLOBAL_FLAGS}`;
}
