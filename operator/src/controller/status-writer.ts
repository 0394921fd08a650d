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

export class StatusWriter {
  private readonly written = new Map<string, { status: OwnedStatus; resourceVersion: string; at: number }>();

  private readonly client: Pick<ApiClient, "applyStatus">;
  private readonly now: () => number;

  constructor(client: Pick<ApiClient, "applyStatus">, now: () => number) {
    this.client = client;
    this.now = now;
  }

  async write(owner: Owner, current: OwnedStatus | undefined, next: OwnedStatus, log: Logger): Promise<void> {
    if (statusEqual(ownedFields(current), next)) return;
    const out = (await this.client.applyStatus(
      { ...CRD_REF, namespace: owner.namespace, name: owner.name },
      next,
    )) as { metadata?: { resourceVersion?: string } } | undefined;
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
    const others = (cached.status?.conditions ?? []).filter((c) => !OWN_CONDITIONS.has(c.type));
    return {
      ...cached,
      status: {
        ...(cached.status ?? {}),
        ...w.status,
        conditions: [...(w.status.conditions ?? []), ...others],
      },
    };
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
