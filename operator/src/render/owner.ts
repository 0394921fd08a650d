// The controller ownerReference every child carries: garbage collection removes children with
// their ModelDeployment, and child events map back to the owner's key.
import { API_VERSION, KIND } from "../api/index.ts";
import type { Owner, OwnerReference } from "./types.ts";

export function ownerReference(owner: Owner): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
