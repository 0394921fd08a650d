// The real LeaseStore: coordination.k8s.io/v1 Leases through client-node's CoordinationV1Api.

import {
  ApiException,
  CoordinationV1Api,
  type KubeConfig,
  type V1Lease,
  V1MicroTime,
} from "@kubernetes/client-node";
import { apiConfiguration, FIELD_MANAGER, REQUEST_TIMEOUT_MS } from "./api-client.ts";
import { LeaseConflictError, type LeaseRecord, type LeaseSpec, type LeaseStore } from "./leader-election.ts";

/** The slice of CoordinationV1Api we call, so tests can hand in a fake. */
export type CoordinationApi = Pick<
  CoordinationV1Api,
  "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease"
>;

export class KubeLeaseStore implements LeaseStore {
  readonly #api: CoordinationApi;

  constructor(api: CoordinationApi) {
    this.#api = api;
  }

  /** Lease calls carry the operator's User-Agent and deadline, but no leadership check: they win it. */
  static fromKubeConfig(kc: KubeConfig, userAgent = FIELD_MANAGER): KubeLeaseStore {
    return new KubeLeaseStore(
      new CoordinationV1Api(apiConfiguration(kc, { requestTimeoutMs: REQUEST_TIMEOUT_MS, userAgent })),
    );
  }

  async get(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    try {
      return toRecord(await this.#api.readNamespacedLease({ namespace, name }));
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw describe(err, "read", namespace, name);
    }
  }

  async create(namespace: string, name: string, spec: LeaseSpec): Promise<LeaseRecord> {
    try {
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace },
        spec: toSpec(spec),
      };
      return toRecord(await this.#api.createNamespacedLease({ namespace, body }));
    } catch (err) {
      if (statusOf(err) === 409) throw new LeaseConflictError(`lease ${namespace}/${name} already exists`);
      throw describe(err, "create", namespace, name);
    }
  }

  async replace(
    namespace: string,
    name: string,
    spec: LeaseSpec,
    resourceVersion: string,
  ): Promise<LeaseRecord> {
    try {
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace, resourceVersion },
        spec: toSpec(spec),
      };
      return toRecord(await this.#api.replaceNamespacedLease({ namespace, name, body }));
    } catch (err) {
      if (statusOf(err) === 409)
        throw new LeaseConflictError(`lease ${namespace}/${name} changed since read`);
      throw describe(err, "replace", namespace, name);
    }
  }
}

// MicroTime must carry a 6-digit fraction; Date#toISOString's 3 digits are rejected by the API server.
function toSpec(spec: LeaseSpec): NonNullable<V1Lease["spec"]> {
  return {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: spec.acquireTime && new V1MicroTime(spec.acquireTime.getTime()),
    renewTime: spec.renewTime && new V1MicroTime(spec.renewTime.getTime()),
    leaseTransitions: spec.leaseTransitions,
  };
}

// client-node does not revive MicroTime fields: they arrive as strings despite their declared type.
function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function toRecord(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity || undefined,
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    acquireTime: toDate(lease.spec?.acquireTime),
    renewTime: toDate(lease.spec?.renewTime),
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? "",
  };
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

// ApiException's message embeds headers and bodies; keep only what helps and never log it raw.
function describe(err: unknown, verb: string, namespace: string, name: string): Error {
  const status = statusOf(err);
  const cause = status === undefined && err instanceof Error ? `: ${err.message}` : "";
  return new Error(
    `${verb} lease ${namespace}/${name} failed${status ? ` with HTTP ${status}` : ""}${cause}`,
  );
}
