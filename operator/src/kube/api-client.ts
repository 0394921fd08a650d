// Every request the operator makes to the API goes through here: one place for the client-side
// rate limit (QPS/burst), request metrics, server-side apply with our field manager, the deadline
// and leadership check on each request, and the mapping of API errors to what the reconciler does
// next.
import {
  ApiException,
  type Configuration,
  CustomObjectsApi,
  createConfiguration,
  EventsV1Api,
  type EventsV1Event,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  setHeaderMiddleware,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { ALWAYS_LEADING, type Leadership } from "./leadership.ts";

export const FIELD_MANAGER = "modelship";

/** The longest one request (not a watch) may take; far above a healthy API server's worst case. */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface RequestGate {
  acquire(): Promise<void>;
}

export type RequestObserver = (verb: string, resource: string, code: number, ms: number) => void;

export interface ApiClientOptions {
  /** The client-side rate limit every metered request waits on. Default: none. */
  limiter?: RequestGate;
  observe?: RequestObserver;
  requestTimeoutMs?: number;
  /** Checked before every write is sent; its signal aborts every request. Default: always leading. */
  leadership?: Leadership;
  /** Names this process to the API server (audit logs): `modelship/<version> (<identity>)`. */
  userAgent?: string;
}

/** A status write conditional on the object being at this resourceVersion (409 Conflict if not). */
export interface StatusWriteOptions {
  fieldManager?: string;
  resourceVersion?: string;
}

/** Methods that change something on the server: only the leader may send them. */
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * As kc.makeApiClient builds it, plus a deadline on every request (a hung connection to the API
 * server must not hold a worker, and its ModelDeployment, forever), our User-Agent, and the
 * leadership check: a write is refused unless this process leads at the instant it is sent, and
 * losing leadership aborts whatever is in flight.
 */
export function apiConfiguration(
  kc: KubeConfig,
  o: { requestTimeoutMs: number; userAgent: string; leadership?: Leadership },
): Configuration {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("kubeconfig has no current cluster");
  const leadership = o.leadership ?? ALWAYS_LEADING;
  // Without election there is no leadership to lose: spare each request a dependent signal.
  const deadline = (): AbortSignal =>
    o.leadership
      ? AbortSignal.any([AbortSignal.timeout(o.requestTimeoutMs), o.leadership.signal])
      : AbortSignal.timeout(o.requestTimeoutMs);
  return createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: kc },
    middleware: [setHeaderMiddleware("User-Agent", o.userAgent)],
    promiseMiddleware: [
      {
        pre: async (request) => {
          if (WRITE_METHODS.has(request.getHttpMethod())) leadership.check();
          request.setSignal(deadline());
          return request;
        },
        post: async (response) => response,
      },
    ],
  });
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** What an API failure means for the reconciler. */
export type ApiErrorClass = "notFound" | "conflict" | "invalid" | "forbidden" | "namespaceGone" | "retry";

export function classifyApiError(err: unknown): ApiErrorClass {
  const code = apiErrorCode(err);
  // A create into a namespace that no longer exists: 404 naming the namespace, not the object.
  if (code === 404) return statusBody(err)?.details?.kind === "namespaces" ? "namespaceGone" : "notFound";
  if (code === 409) return "conflict";
  if (code === 400 || code === 422) return "invalid";
  // A create into a namespace being deleted: 403 like an RBAC denial, told apart by its cause.
  if (code === 403) return statusCauses(err).includes("NamespaceTerminating") ? "namespaceGone" : "forbidden";
  return "retry";
}

/** The `details.causes[].reason` of an API error's Status: how the API server says *why* (a 403 from
 * RBAC and a 403 from a namespace being deleted are the same code). */
function statusCauses(err: unknown): string[] {
  const causes = statusBody(err)?.details?.causes;
  return Array.isArray(causes) ? causes.map((c: { reason?: unknown }) => String(c?.reason ?? "")) : [];
}

interface StatusBody {
  message?: string;
  details?: { kind?: string; causes?: { reason?: unknown }[] };
}

function statusBody(err: unknown): StatusBody | undefined {
  return err instanceof ApiException ? parseStatus(err.body) : undefined;
}

function parseStatus(body: unknown): StatusBody | undefined {
  if (typeof body === "string") {
    try {
      const parsed: unknown = JSON.parse(body);
      return parsed && typeof parsed === "object" ? (parsed as StatusBody) : undefined;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === "object" ? (body as StatusBody) : undefined;
}

/** An API error as client-node throws it, for fakes in tests outside kube/ (which may not import client-node). */
export function makeApiError(code: number, status: StatusBody = {}): Error {
  return new ApiException(
    code,
    status.message ?? `HTTP ${code}`,
    JSON.stringify({ kind: "Status", code, ...status }),
    {},
  );
}

export function apiErrorCode(err: unknown): number {
  return err instanceof ApiException ? err.code : 0;
}

/** The Status message of an API error, for conditions and events a person reads. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const status = parseStatus(err.body);
    if (status?.message) return String(status.message);
    if (typeof err.body === "string") return err.body.slice(0, 500);
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export class ApiClient {
  readonly kc: KubeConfig;
  private readonly gate: RequestGate;
  private readonly observe: RequestObserver;
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly events: EventsV1Api;

  constructor(kc: KubeConfig, o: ApiClientOptions = {}) {
    this.kc = kc;
    this.gate = o.limiter ?? { acquire: async () => {} };
    this.observe = o.observe ?? (() => {});
    const config = apiConfiguration(kc, {
      requestTimeoutMs: o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      userAgent: o.userAgent ?? FIELD_MANAGER,
      ...(o.leadership ? { leadership: o.leadership } : {}),
    });
    this.objects = new KubernetesObjectApi(config);
    this.custom = new CustomObjectsApi(config);
    this.events = new EventsV1Api(config);
  }

  /** Runs one API request under the rate limit, recording verb, resource and status code. */
  async call<T>(verb: string, resource: string, fn: () => Promise<T>, metered = true): Promise<T> {
    if (metered) await this.gate.acquire();
    const t0 = performance.now();
    try {
      const out = await fn();
      this.observe(verb, resource, 200, performance.now() - t0);
      return out;
    } catch (err) {
      this.observe(verb, resource, apiErrorCode(err), performance.now() - t0);
      throw err;
    }
  }

  /** Server-side apply: we own exactly the fields we send; `force` takes them back after a hand edit. */
  apply<T extends KubernetesObject>(obj: T, fieldManager = FIELD_MANAGER): Promise<T> {
    return this.call("apply", obj.kind ?? "?", () =>
      this.objects.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
    );
  }

  delete(ref: ObjectRef): Promise<unknown> {
    return this.call("delete", ref.kind, () =>
      this.objects.delete({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace: ref.namespace },
      }),
    );
  }

  read<T extends KubernetesObject>(ref: ObjectRef): Promise<T> {
    return this.#get(ref, true) as Promise<T>;
  }

  #get(ref: ObjectRef, metered: boolean): Promise<KubernetesObject> {
    const header = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
    };
    return this.call("get", ref.kind, () => this.objects.read(header), metered);
  }

  /**
   * Removes status fields by JSON merge patch (each key set to null), whoever owns them: server-side
   * apply only ever removes the applier's own fields. With a resourceVersion, only from that version.
   */
  removeStatusFields(
    ref: { group: string; version: string; plural: string; namespace: string; name: string },
    status: Record<string, unknown>,
    o: { resourceVersion?: string } = {},
  ): Promise<unknown> {
    const metadata = o.resourceVersion ? { metadata: { resourceVersion: o.resourceVersion } } : {};
    return this.#patchStatus("patch", ref, { ...metadata, status }, PatchStrategy.MergePatch, {
      fieldManager: FIELD_MANAGER,
    });
  }

  /** Creates an Event (kube/events.ts decides which and how often). */
  createEvent(namespace: string, body: EventsV1Event): Promise<unknown> {
    return this.call("create", "events", () => this.events.createNamespacedEvent({ namespace, body }));
  }

  /**
   * Reads an object the caches do not hold, just before creating it (does a same-named object
   * exist that is not ours?). Not metered on its own: the create that follows takes the token,
   * so creating a child costs one token as before and the existence check only its round trip.
   * Callers make at most one per child they are about to write.
   */
  readBeforeWrite(ref: ObjectRef): Promise<KubernetesObject> {
    return this.#get(ref, false);
  }

  /**
   * Applies `status` on the status subresource of a custom resource, under `o.fieldManager`. With
   * `o.resourceVersion` the API server applies it only to that version of the object (409 Conflict
   * otherwise): a status decided from what was read cannot overwrite what changed since.
   */
  applyStatus(
    ref: { group: string; version: string; plural: string; kind: string; namespace: string; name: string },
    status: unknown,
    o: StatusWriteOptions = {},
  ): Promise<unknown> {
    const body = {
      apiVersion: `${ref.group}/${ref.version}`,
      kind: ref.kind,
      metadata: {
        name: ref.name,
        namespace: ref.namespace,
        ...(o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}),
      },
      status,
    };
    return this.#patchStatus("apply", ref, body, PatchStrategy.ServerSideApply, {
      fieldManager: o.fieldManager ?? FIELD_MANAGER,
      force: true,
    });
  }

  #patchStatus(
    verb: string,
    ref: { group: string; version: string; plural: string; namespace: string; name: string },
    body: object,
    strategy: PatchStrategy,
    opts: { fieldManager: string; force?: boolean },
  ): Promise<unknown> {
    const { group, version, plural, namespace, name } = ref;
    return this.call(verb, `${plural}/status`, () =>
      this.custom.patchNamespacedCustomObjectStatus(
        { group, version, plural, namespace, name, body, ...opts },
        setHeaderOptions("Content-Type", strategy),
      ),
    );
  }

  /** Lists a custom resource across all namespaces (or one); used by informers' list functions. */
  listCustom(group: string, version: string, plural: string, namespace?: string): Promise<unknown> {
    return this.call("list", plural, () =>
      namespace
        ? this.custom.listNamespacedCustomObject({ group, version, plural, namespace })
        : this.custom.listClusterCustomObject({ group, version, plural }),
    );
  }
}
