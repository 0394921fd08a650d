import { describe, expect, it } from "vitest";
import { FairQueue } from "./fair-queue.ts";

const takeAll = (q: FairQueue<string>, mayRun: (t: string) => boolean = () => true) => {
  const out: string[] = [];
  for (let next = q.take(mayRun); next !== undefined; next = q.take(mayRun)) out.push(next.item);
  return out;
};

describe("FairQueue", () => {
  it("serves tenants in turn, whatever each one's backlog", () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 5; i++) q.push("a", `a${i}`);
    q.push("b", "b0");
    q.push("b", "b1");
    expect(q.size).toBe(7);
    expect(takeAll(q)).toEqual(["a0", "b0", "a1", "b1", "a2", "a3", "a4"]);
    expect(q.size).toBe(0);
    expect(q.tenants).toBe(0);
  });

  it("passes over a tenant that may not run now, and it keeps its items and its place", () => {
    const q = new FairQueue<string>();
    q.push("a", "a0");
    q.push("a", "a1");
    q.push("b", "b0");
    q.push("b", "b1");
    expect(takeAll(q, (t) => t !== "a")).toEqual(["b0", "b1"]);
    expect(q.take((t) => t !== "a")).toBeUndefined();
    expect(q.size).toBe(2);
    expect(takeAll(q)).toEqual(["a0", "a1"]);
  });

  it("puts a newcomer at the end of the current round, so it cannot jump the queue", () => {
    const q = new FairQueue<string>();
    q.push("a", "a0");
    q.push("a", "a1");
    q.push("b", "b0");
    q.push("b", "b1");
    expect(q.take(() => true)?.item).toBe("a0");
    q.push("c", "c0"); // every tenant already waiting gets its turn (b, then a) before c
    expect(takeAll(q)).toEqual(["b0", "a1", "c0", "b1"]);
  });

  it("keeps items of one tenant in order (FIFO)", () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 3000; i++) q.push("a", `a${i}`);
    const out = takeAll(q);
    expect(out).toHaveLength(3000);
    expect(out.every((x, i) => x === `a${i}`)).toBe(true);
  });
});
