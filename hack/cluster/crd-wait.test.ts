import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitForCrdsEstablished } from "./control-plane.ts";

// A stand-in kubectl (a unit test; the real one is used by every cluster run): answers `get -o json`
// with a CRD that has no status for the first `bare` calls, as the apiserver does right after an
// apply, then with Established=True. Each call's arguments are appended to calls.log.
function fakeKubectl(bare: number): { kubectl: string; kubeconfig: string; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), "crd-wait-"));
  dirs.push(dir);
  const log = join(dir, "calls.log");
  const bareCrd = JSON.stringify({ metadata: { name: "widgets.example.dev" } });
  const ready = JSON.stringify({
    metadata: { name: "widgets.example.dev" },
    status: { conditions: [{ type: "Established", status: "True" }] },
  });
  const kubectl = join(dir, "kubectl");
  writeFileSync(
    kubectl,
    `#!/bin/sh\necho "$*" >> ${log}\nn=$(wc -l < ${log})\nif [ "$n" -le ${bare} ]; then echo '${bareCrd}'; else echo '${ready}'; fi\n`,
  );
  chmodSync(kubectl, 0o755);
  return {
    kubectl,
    kubeconfig: join(dir, "kubeconfig"),
    calls: () => readFileSync(log, "utf8").trim().split("\n"),
  };
}
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("waitForCrdsEstablished", () => {
  it("keeps asking while the CRD has no status yet, and returns once it is Established", () => {
    const k = fakeKubectl(2);
    waitForCrdsEstablished(k, ["widgets.example.dev"], 10_000);
    expect(k.calls()).toHaveLength(3);
    expect(k.calls()[0]).toBe(`--kubeconfig ${k.kubeconfig} get crd/widgets.example.dev -o json`);
  });

  it("fails after the timeout, naming the CRDs still pending", () => {
    const k = fakeKubectl(1_000);
    expect(() => waitForCrdsEstablished(k, ["widgets.example.dev"], 500)).toThrow(
      /not Established within 500 ms: widgets\.example\.dev/,
    );
  });
});
