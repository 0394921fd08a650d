// Repeat suppression of Events, and that it holds nothing for objects that are gone (churn).
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ApiClient } from "./api-client.ts";
import { EventRecorder, type EventTarget } from "./events.ts";

const log = pino({ level: "silent" });
const target = (name: string, uid = `uid-${name}`): EventTarget => ({
  apiVersion: "modelship.dev/v1alpha1",
  kind: "ModelDeployment",
  namespace: "shop",
  name,
  uid,
});
const started = { type: "Normal", reason: "CanaryStarted", message: "canary 5d2a at 10%" } as const;

function recorder(now: () => number) {
  const sent: { namespace: string; reason: string; name: string }[] = [];
  const client: Pick<ApiClient, "createEvent"> = {
    createEvent: async (namespace, body) => {
      sent.push({ namespace, reason: body.reason ?? "", name: body.regarding?.name ?? "" });
      return body;
    },
  };
  return { sent, events: new EventRecorder(client, log, "op-1", { now }) };
}

describe("EventRecorder", () => {
  it("sends the same event for the same object once per window, and again after it", () => {
    let now = 1_000_000;
    const { sent, events } = recorder(() => now);
    events.record(target("a"), started);
    events.record(target("a"), started);
    events.record(target("b"), started);
    expect(sent.map((s) => s.name)).toEqual(["a", "b"]);
    now += 10 * 60_000;
    events.record(target("a"), started);
    expect(sent.map((s) => s.name)).toEqual(["a", "b", "a"]);
  });

  it("forget drops everything remembered for a deleted object, and only for it", () => {
    const { events } = recorder(() => 1_000_000);
    for (const name of ["a", "b"]) {
      events.record(target(name), started);
      events.record(target(name), { ...started, reason: "Promoted", message: "promoted" });
    }
    expect(events.size).toBe(4);
    events.forget("shop", "a");
    expect(events.size).toBe(2);
    events.forget("shop", "b");
    expect(events.size).toBe(0);
  });

  it("a recreated object with the same name is not silenced by its predecessor once forgotten", () => {
    const { sent, events } = recorder(() => 1_000_000);
    events.record(target("a", "uid-1"), started);
    events.forget("shop", "a");
    events.record(target("a", "uid-2"), started);
    expect(sent).toHaveLength(2);
  });

  it("entries past the window are swept even when no delete was seen", () => {
    let now = 1_000_000;
    const { events } = recorder(() => now);
    for (let i = 0; i < 50; i++) events.record(target(`m-${i}`), started);
    expect(events.size).toBe(50);
    now += 10 * 60_000;
    events.record(target("fresh"), started);
    expect(events.size).toBe(1);
  });
});
