// The shapes render/ produces: plain apply configurations (only the fields we own), typed just
// enough to keep builders honest. kube/ sends them with server-side apply.

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export interface ApplyObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
}

/** The parts of the parsed ModelDeployment that identify it as an owner. */
export interface Owner {
  name: string;
  namespace: string;
  uid: string;
}
