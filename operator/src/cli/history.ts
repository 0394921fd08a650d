// `history`: status.history as a table, newest first (the operator keeps it in that order).
import { formatTable, formatTime } from "./format.ts";
import { paintWord, type Style } from "./style.ts";
import type { ModelDeploymentView } from "./view.ts";

export function renderHistory(md: ModelDeploymentView, style: Style): string[] {
  const history = md.status.history ?? [];
  if (history.length === 0) {
    return [
      `modeldeployment ${md.namespace}/${md.name}: no history yet (no revision has finished a rollout)`,
    ];
  }
  const current = (revision: string) => (revision === md.status.stableRevision ? `${revision}*` : revision);
  return [
    ...formatTable(
      ["REVISION", "MODEL VERSION", "IMAGE", "OUTCOME", "REASON", "TIME", "MESSAGE"],
      history.map((h) => [
        current(h.revision),
        h.modelVersion ?? "-",
        h.image ?? "-",
        h.outcome,
        h.reason ?? "-",
        formatTime(h.time),
        h.message ?? "",
      ]),
      (text, _row, column) =>
        column === 3 ? paintWord(style, text.trimEnd()) + text.slice(text.trimEnd().length) : text,
    ),
    ...(md.status.stableRevision ? [style.dim("* the current stable revision")] : []),
  ];
}
