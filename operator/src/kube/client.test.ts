import { RequestContext } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { PooledKubeConfig } from "./client.ts";

const kubeconfig = (server: string, token: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "c",
        cluster: { server, "certificate-authority-data": Buffer.from("not-a-real-ca").toString("base64") },
      },
    ],
    users: [{ name: "u", user: { token } }],
    contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
    "current-context": "x",
  });

describe("PooledKubeConfig", () => {
  it("gives every request the same dispatcher (one connection pool), and still sets each request's auth header", async () => {
    const kc = new PooledKubeConfig();
    kc.loadFromString(kubeconfig("https://127.0.0.1:6443", "t0k3n"));
    const a = new RequestContext("https://127.0.0.1:6443/api", "GET" as never);
    const b = new RequestContext("https://127.0.0.1:6443/apis", "GET" as never);
    await kc.applySecurityAuthentication(a);
    await kc.applySecurityAuthentication(b);
    expect(a.getDispatcher()).toBeDefined();
    expect(b.getDispatcher()).toBe(a.getDispatcher());
    expect(b.getHeaders().Authorization).toBe("Bearer t0k3n");
  });

  it("keeps separate pools for different clusters", async () => {
    const one = new PooledKubeConfig();
    one.loadFromString(kubeconfig("https://127.0.0.1:6443", "t"));
    const ctx1 = new RequestContext("https://127.0.0.1:6443/api", "GET" as never);
    await one.applySecurityAuthentication(ctx1);
    one.loadFromString(kubeconfig("https://127.0.0.2:6443", "t"));
    const ctx2 = new RequestContext("https://127.0.0.2:6443/api", "GET" as never);
    await one.applySecurityAuthentication(ctx2);
    expect(ctx2.getDispatcher()).not.toBe(ctx1.getDispatcher());
  });
});
