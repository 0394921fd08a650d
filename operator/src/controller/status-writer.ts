// Step 7 of a reconcile: the one status write. It writes only when the owned status changed, and
// remembers what it wrote until the informer cache shows it: without that, a reconcile triggered by
// a child event right after the write would decide again from the stale status (and repeat its
// transition and its events).
import type { Logger } from "pino";
import { GROUP, KIND, PLURAL, VERSION } from "../api/index.ts";
import type { ApiClient } from "../kube/api-client.ts";
import type { Owner } from "../render/types.ts";
import { OWN_CONDITIONS, type OwnedStatus, ownedFields, statusEqual } from "./compose-status.ts";
import type { CachedModelDeployment } from "./snapshot.ts";

const CRD_REF = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND };
/** After this, trust the cache even if it never showed our write's version (e.g. after a relist). */
const WRITTEN_STATUS_TTL_MS = 10_000;

type Written = { metadata?: { resourceVersion?: string }; status?: Record<string, unknown> };

/**
 * Fields of the written status this writer owns but did not send (a top-level field, or a key of
 * status.revisionSpecs), as a merge patch that removes them; undefined when there are none.
 * status.health and conditions are left out: the prober owns health and its own condition.
 */
export function strayFields(
  written: Record<string, unknown> | undefined,
  sent: OwnedStatus,
): Record<string, unknown> | undefined {
  if (!written) return undefined;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(written)) {
    if (key === "health" || key === "conditions") continue;
    if (!(key in sent)) patch[key] = null;
  }
  const sentSpecs = (sent.revisionSpecs ?? {}) as Record<string, unknown>;
  const writtenSpecs = written.revisionSpecs as Record<string, unknown> | undefined;
  const strayRevisions = Object.keys(writtenSpecs ?? {}).filter((r) => !(r in sentSpecs));
  if (strayRevisions.length > 0 && patch.revisionSpecs === undefined) {
    patch.revisionSpecs = Object.fromEntries(strayRevisions.map((r) => [r, null]));
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export class StatusWriter {
  private readonly written = new Map<string, { status: OwnedStatus; resourceVersion: string; at: number }>();

  private readonly client: Pick<ApiClient, "applyStatus" | "removeStatusFields">;
  private readonly now: () => number;

  constructor(client: Pick<ApiClient, "applyStatus" | "removeStatusFields">, now: () => number) {
    this.client = client;
    this.now = now;
  }

  async write(owner: Owner, current: OwnedStatus | undefined, next: OwnedStatus, log: Logger): Promise<void> {
    if (statusEqual(ownedFields(current), next)) return;
    const ref = { ...CRD_REF, namespace: owner.namespace, name: owner.name };
    let out = (await this.client.applyStatus(ref, next)) as Written | undefined;
    const stray = strayFields(out?.status, next);
    if (stray) {
      // Someone else wrote fields this writer owns (apply leaves another manager's fields alone).
      log.warn({ fields: Object.keys(stray) }, "removing status fields written by someone else");
      out = (await this.client.removeStatusFields(ref, stray)) as Written | undefined;
    }
    const resourceVersion = out?.metadata?.resourceVersion;
    if (resourceVersion) {
      this.written.set(`${owner.namespace}/${owner.name}`, { status: next, resourceVersion, at: this.now() });
    }
    log.debug({ phase: next.phase }, "status written");
  }

  /** The cached object, with the status we wrote laid over it until the cache has caught up. */
  overlay<T extends CachedModelDeployment>(key: string, cached: T): T {
    const w = this.written.get(key);
    if (!w) return cached;
    // The watch delivers events in order: once our write's version is in the cache, so is our status.
    if (cached.metadata?.resourceVersion === w.resourceVersion || this.now() - w.at > WRITTEN_STATUS_TTL_MS) {
      this.written.delete(key);
      return cached;
    }
    // Everything this writer owns comes from what it wrote (a field it dropped stays dropped);
    // only the prober's part comes from the cache.
    const health = (cached.status as { health?: unknown } | undefined)?.health;
    const others = (cached.status?.conditions ?? []).filter((c) => !OWN_CONDITIONS.has(c.type));
    return {
      ...cached,
      status: {
        ...w.status,
        ...(health !== undefined ? { health } : {}),
        conditions: [...(w.status.conditions ?? []), ...others],
      },
    };
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
