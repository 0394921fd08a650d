import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { ApiException, KubeConfig, V1MicroTime } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import { ApiClient, apiErrorMessage, classifyApiError } from "./api-client.ts";
import { type Leadership, NotLeaderError } from "./leadership.ts";

// The bodies are what kube-apiserver v1.36 sends (Status objects), as client-node hands them over.
const status = (code: number, reason: string, message: string, causes: { reason: string }[] = []) =>
  new ApiException(
    code,
    "Unsuccessful HTTP Request",
    JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message,
      reason,
      details: { causes },
      code,
    }),
    {},
  );

describe("classifyApiError", () => {
  it("tells a namespace being deleted apart from an RBAC denial (both are 403)", () => {
    const terminating = status(
      403,
      "Forbidden",
      'deployments.apps "c4-bffedb9e60" is forbidden: unable to create new content in namespace rec because it is being terminated',
      [{ reason: "NamespaceTerminating" }],
    );
    const rbac = status(
      403,
      "Forbidden",
      'deployments.apps is forbidden: User "system:serviceaccount:x:y" cannot create resource "deployments"',
    );
    expect(classifyApiError(terminating)).toBe("namespaceGone");
    expect(classifyApiError(rbac)).toBe("forbidden");
  });

  it("tells a namespace that no longer exists apart from a missing object (both are 404)", () => {
    const gone = new ApiException(
      404,
      "Not Found",
      JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        message: 'namespaces "rec" not found',
        reason: "NotFound",
        details: { name: "rec", kind: "namespaces" },
        code: 404,
      }),
      {},
    );
    expect(classifyApiError(gone)).toBe("namespaceGone");
    const missing = new ApiException(
      404,
      "Not Found",
      JSON.stringify({
        kind: "Status",
        status: "Failure",
        reason: "NotFound",
        details: { name: "shop", group: "modelship.dev", kind: "modeldeployments" },
        code: 404,
      }),
      {},
    );
    expect(classifyApiError(missing)).toBe("notFound");
  });

  it("maps codes to what the reconciler does next", () => {
    expect(classifyApiError(status(404, "NotFound", "x"))).toBe("notFound");
    expect(classifyApiError(status(409, "Conflict", "x"))).toBe("conflict");
    expect(classifyApiError(status(422, "Invalid", "x"))).toBe("invalid");
    expect(classifyApiError(status(500, "InternalError", "x"))).toBe("retry");
    expect(classifyApiError(new Error("socket hang up"))).toBe("retry");
    // A 403 whose body is not a Status (a proxy in between) is still a denial.
    expect(classifyApiError(new ApiException(403, "Forbidden", "<html>denied</html>", {}))).toBe("forbidden");
  });
});

describe("apiErrorMessage", () => {
  it("reads the Status message, falls back to the raw body, then to the code", () => {
    expect(apiErrorMessage(status(422, "Invalid", "spec.replicas: must be >= 0"))).toBe(
      "spec.replicas: must be >= 0",
    );
    expect(apiErrorMessage(new ApiException(502, "Bad Gateway", "upstream down", {}))).toBe("upstream down");
    expect(apiErrorMessage(new ApiException(500, "x", { message: "boom" }, {}))).toBe("boom");
    expect(apiErrorMessage(new ApiException(500, "x", undefined, {}))).toBe("HTTP 500");
    expect(apiErrorMessage(new Error("plain"))).toBe("plain");
  });
});

describe("ApiClient deadlines", () => {
  it("gives up on a request the API server never answers", async () => {
    // An "API server" on loopback that accepts and then says nothing.
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const client = new ApiClient(kc, { requestTimeoutMs: 300 });
    const started = Date.now();
    try {
      await expect(
        client.read({ apiVersion: "v1", kind: "ServiceAccount", namespace: "ns", name: "sa" }),
      ).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});

/** Leadership a test can take away; its signal aborts like the elector's. */
class TestLeadership implements Leadership {
  leading = true;
  readonly #ended = new AbortController();
  get signal(): AbortSignal {
    return this.#ended.signal;
  }
  check(): void {
    if (!this.leading) throw new NotLeaderError("not the leader");
  }
  lose(): void {
    this.leading = false;
    this.#ended.abort(new NotLeaderError("leadership ended"));
  }
}

describe("ApiClient and leadership", () => {
  /** An "API server" on loopback: answers reads, records every request, never answers a PATCH. */
  async function apiServer() {
    const seen: { method: string; url: string; userAgent: string }[] = [];
    const server = createHttpServer((req, res) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", userAgent: req.headers["user-agent"] ?? "" });
      if (req.method === "PATCH") return; // hangs: a write in flight
      res.setHeader("content-type", "application/json");
      // Discovery first (client-node resolves a kind's path from it), then the object.
      const body =
        req.url === "/api/v1"
          ? {
              kind: "APIResourceList",
              groupVersion: "v1",
              resources: [
                {
                  name: "serviceaccounts",
                  namespaced: true,
                  kind: "ServiceAccount",
                  verbs: ["get", "delete"],
                },
              ],
            }
          : { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa", namespace: "ns" } };
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return {
      kc,
      seen,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }
  const sa = { apiVersion: "v1", kind: "ServiceAccount", namespace: "ns", name: "sa" };
  const mdRef = {
    group: "modelship.dev",
    version: "v1alpha1",
    plural: "modeldeployments",
    kind: "ModelDeployment",
    namespace: "ns",
    name: "md",
  };

  it("sends no write unless this process leads at that instant; reads go on; every request names the process", async () => {
    const api = await apiServer();
    const leadership = new TestLeadership();
    leadership.leading = false;
    const client = new ApiClient(api.kc, { leadership, userAgent: "modelship/0.1.0 (pod-a-42)" });
    try {
      await expect(client.applyStatus(mdRef, { phase: "Healthy" })).rejects.toBeInstanceOf(NotLeaderError);
      await expect(client.delete(sa)).rejects.toBeInstanceOf(NotLeaderError);
      await expect(
        client.createEvent("ns", { eventTime: new V1MicroTime(), metadata: { name: "e" } }),
      ).rejects.toBeInstanceOf(NotLeaderError);
      await client.read(sa);
      expect(api.seen.filter((r) => r.url !== "/api/v1")).toEqual([
        {
          method: "GET",
          url: "/api/v1/namespaces/ns/serviceaccounts/sa",
          userAgent: "modelship/0.1.0 (pod-a-42)",
        },
      ]);
      expect(api.seen.every((r) => r.method === "GET")).toBe(true);
    } finally {
      api.close();
    }
  });

  it("aborts a write in flight the moment leadership ends", async () => {
    const api = await apiServer();
    const leadership = new TestLeadership();
    const client = new ApiClient(api.kc, { leadership });
    try {
      const write = client.applyStatus(mdRef, { phase: "Healthy" }, { resourceVersion: "7" });
      await vi.waitFor(() => expect(api.seen.map((r) => r.method)).toEqual(["PATCH"]));
      const lostAt = Date.now();
      leadership.lose();
      await expect(write).rejects.toBeInstanceOf(NotLeaderError);
      expect(Date.now() - lostAt).toBeLessThan(1_000);
    } finally {
      api.close();
    }
  });
});
