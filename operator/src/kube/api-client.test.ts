import { type AddressInfo, createServer, type Socket } from "node:net";
import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ApiClient, apiErrorMessage, classifyApiError } from "./api-client.ts";

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
