// Every child a ModelDeployment wants, from one rollout decision: a Deployment per live revision
// (each rendered from the spec it was created with), the Service(s), the HTTPRoute or the
// TraefikServices, the HPA and the PDB.
// Where a CR field becomes a child field: the render/<kind>.ts file named for the child.
import type { ModelDeployment } from "../api/index.ts";
import type { RolloutDecision } from "../rollout/types.ts";
import { renderDeployment } from "./deployment.ts";
import type { MadeWith } from "./features.ts";
import { renderHpa } from "./hpa.ts";
import { renderHttpRoute } from "./httproute.ts";
import { renderPdb } from "./pdb.ts";
import type { RevisionSpec } from "./revision.ts";
import { renderService } from "./service.ts";
import { renderTraefikServices } from "./traefik-service.ts";
import type { ApplyObject, Owner } from "./types.ts";

export interface RenderedChildren {
  objects: ApplyObject[];
  /** Live revisions with no spec snapshot (status lost): their Deployments are left as they are. */
  unknownRevisions: string[];
}

export function renderChildren(
  md: ModelDeployment,
  owner: Owner,
  decision: Pick<RolloutDecision, "revisions" | "traffic">,
  revisionSpecs: Readonly<Record<string, RevisionSpec>>,
  /** What each existing revision's Deployment was made with (features.ts); others are new. */
  madeWith: ReadonlyMap<string, MadeWith>,
  /** The operator's download container image for new revisions (model-artifacts.ts). */
  modelDownloaderImage?: string,
): RenderedChildren {
  const objects: ApplyObject[] = [];
  const unknownRevisions: string[] = [];
  for (const r of decision.revisions) {
    const snap = revisionSpecs[r.revision];
    if (!snap) {
      unknownRevisions.push(r.revision);
      continue;
    }
    const spec = { ...md.spec, model: snap.model, runtime: snap.runtime, template: snap.template };
    objects.push(
      renderDeployment({
        owner,
        spec,
        revision: r.revision,
        replicas: r.replicas,
        madeWith: madeWith.get(r.revision),
        modelDownloaderImage,
      }),
    );
  }
  const t = decision.traffic;
  if (t.mode === "replicaRatio") {
    objects.push(renderService({ owner, spec: md.spec, revision: t.serviceSelector.revision }));
  } else {
    const gw = md.spec.rollout.traffic?.gatewayAPI;
    const stable = t.stableRevision ?? t.canaryRevision;
    objects.push(renderService({ owner, spec: md.spec, revision: stable }));
    objects.push(renderService({ owner, spec: md.spec, revision: stable, role: "stable" }));
    objects.push(
      renderService({ owner, spec: md.spec, revision: t.canaryRevision ?? stable, role: "canary" }),
    );
    if (gw) objects.push(renderHttpRoute(owner, md.spec, gw, t.weights, t.headerRoute, t.shadowPercent));
    const tr = md.spec.rollout.traffic?.traefik;
    if (tr) objects.push(...renderTraefikServices(owner, md.spec, tr, t.weights, t.shadowPercent));
  }
  const hpa = renderHpa(owner, md.spec);
  if (hpa) objects.push(hpa);
  const pdb = renderPdb(owner, md.spec);
  if (pdb) objects.push(pdb);
  return { objects, unknownRevisions };
}
