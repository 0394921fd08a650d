import { describe, expect, it } from "vitest";
import { renderHistory } from "./history.ts";
import { PLAIN } from "./style.ts";
import { canaryMidStep, OLDER_REV, STABLE_REV } from "./testing.ts";
import { toModelDeploymentView } from "./view.ts";

describe("renderHistory", () => {
  it("lists status.history newest first with the current stable marked", () => {
    const lines = renderHistory(toModelDeploymentView(canaryMidStep(), "default"), PLAIN);
    expect(lines[0]).toMatch(/^REVISION\s+MODEL VERSION\s+IMAGE\s+OUTCOME\s+REASON\s+TIME\s+MESSAGE$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${STABLE_REV}\\*\\s+2026-10-01\\s+registry.example/recsys-server:1.4.1\\s+Promoted\\s+StepsCompleted\\s+2026-10-01T09:00:00Z\\s+\\S+ promoted to stable`,
      ),
    );
    expect(lines[2]).toMatch(new RegExp(`^${OLDER_REV}\\s+2026-09-01\\s+\\S+\\s+Superseded\\s+Promoted\\s`));
    expect(lines[3]).toMatch(new RegExp(`^${OLDER_REV}\\s+2026-09-01\\s+\\S+\\s+Promoted\\s`));
    expect(lines.at(-1)).toBe("* the current stable revision");
  });

  it("says so when there is no history", () => {
    const raw = canaryMidStep();
    raw.status.history = [];
    expect(renderHistory(toModelDeploymentView(raw, "default"), PLAIN)).toEqual([
      "modeldeployment shop/recommender: no history yet (no revision has finished a rollout)",
    ]);
  });
});
