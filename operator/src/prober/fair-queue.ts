// Due probe runs waiting for a slot, one FIFO per tenant (a ModelDeployment), served round-robin
// across tenants, so a tenant with many waiting runs cannot push another tenant's runs back.

interface TenantQueue<T> {
  name: string;
  items: T[];
  head: number;
}

/**
 * A round-robin queue over tenants: `take` hands out the head of the next tenant in turn that may
 * run now, so each tenant with waiting work gets one slot per turn whatever its backlog. Only
 * tenants with waiting items are held, so memory follows the backlog, not the tenant count.
 */
export class FairQueue<T> {
  readonly #byName = new Map<string, TenantQueue<T>>();
  /** Tenants with waiting items, in turn order; `#cursor` is the next one's turn. */
  readonly #ring: TenantQueue<T>[] = [];
  #cursor = 0;
  #size = 0;

  /** Items waiting, over all tenants. */
  get size(): number {
    return this.#size;
  }

  /** Tenants with waiting items. */
  get tenants(): number {
    return this.#ring.length;
  }

  push(tenant: string, item: T): void {
    let q = this.#byName.get(tenant);
    if (q === undefined) {
      q = { name: tenant, items: [], head: 0 };
      this.#byName.set(tenant, q);
      // A newcomer waits for the current round to finish: it goes just before the cursor.
      this.#ring.splice(this.#cursor, 0, q);
      this.#cursor++;
    }
    q.items.push(item);
    this.#size++;
  }

  /**
   * The oldest item of the next tenant in turn for which `mayRun` says yes, or undefined when no
   * waiting tenant may run now. Tenants passed over keep their place for the next call.
   */
  take(mayRun: (tenant: string) => boolean): { tenant: string; item: T } | undefined {
    for (let scanned = 0, n = this.#ring.length; scanned < n; scanned++) {
      if (this.#cursor >= this.#ring.length) this.#cursor = 0;
      const q = this.#ring[this.#cursor] as TenantQueue<T>;
      if (!mayRun(q.name)) {
        this.#cursor++;
        continue;
      }
      const item = q.items[q.head++] as T;
      this.#size--;
      if (q.head === q.items.length) {
        // Drained: the tenant leaves the ring; the cursor now points at the one after it.
        this.#ring.splice(this.#cursor, 1);
        this.#byName.delete(q.name);
      } else {
        if (q.head > 1024) {
          q.items.splice(0, q.head);
          q.head = 0;
        }
        this.#cursor++;
      }
      return { tenant: q.name, item };
    }
    return undefined;
  }

  clear(): void {
    this.#byName.clear();
    this.#ring.length = 0;
    this.#cursor = 0;
    this.#size = 0;
  }
}
