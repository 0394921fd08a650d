// spec.model.uri → where the weights come from, and how they reach the pod (docs/model-artifacts.md).
//   pvc://<claim>/<path>          the claim, mounted read-only; the path within it is the model
//   oci://<image reference>       an image volume (Kubernetes ImageVolume), mounted read-only
//   s3:// gs:// https:// hf://    downloaded by an init container into a shared volume
//   anything else (or no scheme)  handed to the server as MODEL_URI only, as before
// Each known scheme has one pattern, valid in JS and in RE2, so zod and the CRD's CEL rule say the
// same thing in the same words; a URI of a known scheme that does not match is refused.

/** Where every local copy of a model is mounted in the model server (KServe's convention too). */
export const MODEL_MOUNT_PATH = "/mnt/models";

export type ModelSource =
  | { kind: "pvc"; claimName: string; subPath: string }
  | { kind: "oci"; reference: string }
  | { kind: "download"; scheme: DownloadScheme }
  | { kind: "opaque" };

export const DOWNLOAD_SCHEMES = ["s3", "gs", "https", "hf"] as const;
export type DownloadScheme = (typeof DOWNLOAD_SCHEMES)[number];

/** RFC 3986 path characters (pchar and '/') and %XX escapes; no spaces, quotes or control characters. */
const PATH = "(/([-A-Za-z0-9._~!$&()*+,;=:@]|%[0-9A-Fa-f]{2})*)*";
const QUERY = "([?]([-A-Za-z0-9._~!$&()*+,;=:@/?]|%[0-9A-Fa-f]{2})*)?";

interface SchemeRule {
  prefix: string;
  pattern: string;
  message: string;
}

/** One rule per known scheme: a URI that starts with the prefix must match the pattern. */
export const MODEL_URI_RULES: readonly SchemeRule[] = [
  {
    prefix: "pvc://",
    pattern: `^pvc://[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?${PATH}$`,
    message:
      "a pvc:// URI is pvc://<claim>/<path>: the claim a DNS-1123 subdomain, the path of RFC 3986 path characters",
  },
  {
    prefix: "oci://",
    pattern:
      "^oci://[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]{1,5})?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$",
    message:
      "an oci:// URI is oci://<registry>/<repository>[:tag][@sha256:<digest>], as an image reference is written",
  },
  {
    prefix: "s3://",
    pattern: `^s3://[a-z0-9][-a-z0-9.]{1,61}[a-z0-9]${PATH}$`,
    message:
      "an s3:// URI is s3://<bucket>/<key>: a bucket name of 3-63 lowercase letters, digits, '.' and '-'",
  },
  {
    prefix: "gs://",
    pattern: `^gs://[a-z0-9][-a-z0-9._]{1,220}[a-z0-9]${PATH}$`,
    message:
      "a gs:// URI is gs://<bucket>/<object>: a bucket name of lowercase letters, digits, '.', '_' and '-'",
  },
  {
    prefix: "https://",
    // No user:password@ in the authority: credentials belong in a Secret, never in the spec.
    pattern: `^https://[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?${PATH}${QUERY}$`,
    message:
      "an https:// URI is https://<host>[:port]/<path>[?query], without user:password@ (credentials go in model.storage.credentialsSecretName)",
  },
  {
    prefix: "hf://",
    pattern:
      "^hf://[A-Za-z0-9][-A-Za-z0-9._]{0,95}/[A-Za-z0-9][-A-Za-z0-9._]{0,95}(:[A-Za-z0-9][-A-Za-z0-9._]{0,127})?$",
    message:
      "an hf:// URI is hf://<organisation>/<repository>[:revision], as the Hugging Face Hub names them",
  },
];

const COMPILED = MODEL_URI_RULES.map((r) => ({ ...r, re: new RegExp(r.pattern) }));

/** The message for a URI of a known scheme that is malformed; undefined when it is fine (or opaque). */
export function modelUriProblem(uri: string): string | undefined {
  for (const r of COMPILED) {
    if (!uri.startsWith(r.prefix)) continue;
    if (!r.re.test(uri)) return r.message;
    // The path is handed to the server under /mnt/models: a parent segment would point outside it.
    if (r.prefix === "pvc://" && /\/\.\.?(\/|$)/.test(uri)) return PVC_DOT_SEGMENT;
  }
  return undefined;
}

export const PVC_DOT_SEGMENT = "a pvc:// path has no '.' or '..' segments";

/** The CEL rules of the uri field: the same patterns, one rule per scheme. */
export const MODEL_URI_CEL = [
  ...MODEL_URI_RULES.map((r) => ({
    rule: `!self.startsWith('${r.prefix}') || self.matches(r"${r.pattern}")`,
    message: r.message,
  })),
  {
    rule: `!self.startsWith('pvc://') || !self.matches(r"/[.][.]?(/|$)")`,
    message: PVC_DOT_SEGMENT,
  },
];

/** What a (valid) URI asks for. Call only on a URI that modelUriProblem accepted. */
export function modelSource(uri: string | undefined): ModelSource {
  if (uri === undefined) return { kind: "opaque" };
  if (uri.startsWith("pvc://")) {
    const rest = uri.slice("pvc://".length);
    const slash = rest.indexOf("/");
    if (slash < 0) return { kind: "pvc", claimName: rest, subPath: "" };
    return {
      kind: "pvc",
      claimName: rest.slice(0, slash),
      subPath: rest.slice(slash + 1).replace(/\/+$/, ""),
    };
  }
  if (uri.startsWith("oci://")) return { kind: "oci", reference: uri.slice("oci://".length) };
  for (const scheme of DOWNLOAD_SCHEMES) {
    if (uri.startsWith(`${scheme}://`)) return { kind: "download", scheme };
  }
  return { kind: "opaque" };
}

/** The local path the server reads the model from, when the URI gives it one. */
export function localModelPath(source: ModelSource): string | undefined {
  switch (source.kind) {
    case "pvc":
      return source.subPath ? `${MODEL_MOUNT_PATH}/${source.subPath}` : MODEL_MOUNT_PATH;
    case "oci":
    case "download":
      return MODEL_MOUNT_PATH;
    case "opaque":
      return undefined;
  }
}

/** A CEL test that a URI is downloaded (model.storage applies only then). */
export const DOWNLOAD_URI_CEL = `(${DOWNLOAD_SCHEMES.map((s) => `self.uri.startsWith('${s}://')`).join(" || ")})`;
