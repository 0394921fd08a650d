// The churn bench's GC through the inspector, against a real Node process listening on 127.0.0.1.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { collectGarbage, inspectorUrl } from "./inspector.ts";

describe("inspector", () => {
  it("finds the address in the process's stderr", () => {
    expect(
      inspectorUrl(
        "x\nDebugger listening on ws://127.0.0.1:40123/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab\nFor help",
      ),
    ).toBe("ws://127.0.0.1:40123/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab");
    expect(inspectorUrl("Debugger listening on ws://0.0.0.0:9229/abc")).toBeUndefined();
  });

  it("runs a GC in another process over the DevTools protocol and reports its heap", async () => {
    // 40 MiB of garbage made before the GC: the heap used after it must be far below that.
    const child = spawn(
      process.execPath,
      [
        "--inspect=127.0.0.1:0",
        "-e",
        "globalThis.junk = Array.from({ length: 40 }, () => Buffer.alloc(1).toString().repeat(1 << 20)); globalThis.junk = null; setTimeout(() => {}, 60000);",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    try {
      let err = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr?.on("data", (d: Buffer) => {
          err += String(d);
          const u = inspectorUrl(err);
          if (u) resolve(u);
        });
        child.once("exit", () => reject(new Error(`exited: ${err}`)));
      });
      const heap = await collectGarbage(url, 20_000);
      expect(heap.usedBytes).toBeGreaterThan(0);
      expect(heap.usedBytes).toBeLessThan(20 * 2 ** 20);
      expect(heap.totalBytes).toBeGreaterThanOrEqual(heap.usedBytes);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
