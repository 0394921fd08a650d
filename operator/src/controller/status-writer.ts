// Step 7 of a reconcile: the one status write. It writes only when the owned status changed, and
// only onto the version of the object the decision was made from (a resourceVersion precondition):
// a status decided from a stale read, or by a process that is no longer the leader, is refused with
// 409 Conflict instead of overwriting what happened since; the reconcile then decides again.
// It also remembers what it wrote until the informer cache shows it: without that, a reconcile
// triggered by a child event right after the write would decide again from the stale status (and
// repeat its transition and its events).
import type { Logger } from "pino";
import { GROUP, KIND, PLURAL, VERSION } from "../api/index.ts";
import { type ApiClient, classifyApiError } from "../kube/api-client.ts";
import type { Owner } from "../render/types.ts";
import { OWN_CONDITIONS, type OwnedStatus, ownedFields, statusEqual } from "./compose-status.ts";
import type { CachedModelDeployment } from "./snapshot.ts";

const CRD_REF = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND };
/**
 * After a conflict, how long to wait for the cache to move past the versions known to be stale
 * before deciding from it anyway (a watch that stalls must not stall the ModelDeployment; the
 * precondition still guards the write).
 */
const STALE_CACHE_WAIT_MS = 30_000;

type Written = { metadata?: { resourceVersion?: string }; status?: Record<string, unknown> };

/** What a reconcile read: the owned status and the resourceVersion it was read at. */
export interface StatusRead {
  status: OwnedStatus | undefined;
  resourceVersion: string | undefined;
}

/** How a write ended: a conflict means the object changed since it was read; decide again. */
export type WriteOutcome = "written" | "unchanged" | "conflict";

/**
 * What this writer knows the cache does not show yet, per key. `behind` holds versions of the object
 * known to be superseded (the ones our writes were made onto, and after a conflict, the one that was
 * refused): while the cache shows one of them, it is behind.
 */
interface Pending {
  behind: Set<string>;
  /** Our last write, laid over the cache while it is behind; absent after a conflict (unknown). */
  written?: { status: OwnedStatus; resourceVersion: string };
  at: number;
}

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
  private readonly pending = new Map<string, Pending>();

  private readonly client: Pick<ApiClient, "applyStatus" | "removeStatusFields">;
  private readonly now: () => number;

  constructor(client: Pick<ApiClient, "applyStatus" | "removeStatusFields">, now: () => number) {
    this.client = client;
    this.now = now;
  }

  async write(owner: Owner, read: StatusRead, next: OwnedStatus, log: Logger): Promise<WriteOutcome> {
    if (statusEqual(ownedFields(read.status), next)) return "unchanged";
    const key = `${owner.namespace}/${owner.name}`;
    const base = read.resourceVersion;
    if (!base) throw new Error(`status of ${key}: no resourceVersion to write it onto`);
    const ref = { ...CRD_REF, namespace: owner.namespace, name: owner.name };
    // Versions the cache may still show that this write supersedes: the one it is made onto, and
    // (when that one came from our own last write) those the last write superseded.
    const prev = this.pending.get(key);
    const behind = new Set(prev?.written?.resourceVersion === base ? prev.behind : []);
    behind.add(base);
    try {
      let out = (await this.client.applyStatus(ref, next, { resourceVersion: base })) as Written | undefined;
      const stray = strayFields(out?.status, next);
      const applied = out?.metadata?.resourceVersion;
      if (stray && applied) {
        // Someone else wrote fields this writer owns (apply leaves another manager's fields alone).
        log.warn({ fields: Object.keys(stray) }, "removing status fields written by someone else");
        behind.add(applied);
        out = (await this.client.removeStatusFields(ref, stray, { resourceVersion: applied })) as
          | Written
          | undefined;
      }
      const resourceVersion = out?.metadata?.resourceVersion;
      if (resourceVersion) {
        this.pending.set(key, { behind, written: { status: next, resourceVersion }, at: this.now() });
      } else {
        this.pending.delete(key);
      }
      log.debug({ phase: next.phase }, "status written");
      return "written";
    } catch (err) {
      if (classifyApiError(err) !== "conflict") throw err;
      // The object moved on since it was read (a person's annotation, the prober's health, another
      // leader). What we wrote before may be outdated too: decide again only from a cache that has
      // moved past every version known to be stale, never from our overlay or an older cache.
      if (prev?.written) behind.add(prev.written.resourceVersion);
      this.pending.set(key, { behind, at: this.now() });
      log.info({ resourceVersion: base }, "status changed since it was read; deciding again");
      return "conflict";
    }
  }

  /**
   * The cached object as a decision should see it: with the status we wrote laid over it while the
   * cache is behind our write; undefined while the cache is behind a version a write was refused on
   * (wait for the watch; the caller requeues).
   */
  overlay<T extends CachedModelDeployment>(key: string, cached: T): T | undefined {
    const p = this.pending.get(key);
    if (!p) return cached;
    const rv = cached.metadata?.resourceVersion;
    // The watch delivers a key's versions in order: a version we do not know as stale is newer
    // than all of them, so it shows our writes (or what superseded them).
    if (rv === undefined || !p.behind.has(rv)) {
      this.pending.delete(key);
      return cached;
    }
    const w = p.written;
    if (!w) {
      if (this.now() - p.at <= STALE_CACHE_WAIT_MS) return undefined;
      this.pending.delete(key);
      return cached;
    }
    // Everything this writer owns comes from what it wrote (a field it dropped stays dropped);
    // only the prober's part comes from the cache. The next write goes onto our write's version.
    const health = (cached.status as { health?: unknown } | undefined)?.health;
    const others = (cached.status?.conditions ?? []).filter((c) => !OWN_CONDITIONS.has(c.type));
    return {
      ...cached,
      metadata: { ...cached.metadata, resourceVersion: w.resourceVersion },
      status: {
        ...w.status,
        ...(health !== undefined ? { health } : {}),
        conditions: [...(w.status.conditions ?? []), ...others],
      },
    };
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
