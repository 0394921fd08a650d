// The grammar of a path the prober (or the kubelet) requests: what the request-target of an HTTP/1.1
// request line can carry in origin-form (RFC 9112 §3.2.1, RFC 3986 pchar), and nothing else, so a
// spec cannot smuggle a space, CR/LF, '#', a host ('//x') or a parent segment into a probe request.
// One pattern serves zod, the CRD's CEL rule and the prober's last check before a request.

/** Letters, digits, `-._~!$&'()*+,;=:@/?` and %XX escapes, after a leading '/'. Valid in JS and RE2. */
export const HTTP_PATH_PATTERN = "^/([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*$";

/** The one message for a bad path, in zod and in CEL. */
export const HTTP_PATH_MESSAGE =
  "must be an absolute path with an optional ?query, of the characters an HTTP request line allows (letters, digits, -._~!$&'()*+,;=:@/? and %XX escapes), not starting with '//' and without '..'";

/** The most characters of a probe path. */
export const HTTP_PATH_MAX = 256;

const PATTERN = new RegExp(HTTP_PATH_PATTERN);

/** Whether `path` may be put on a probe's request line. */
export function isHttpRequestPath(path: string): boolean {
  return path.length <= HTTP_PATH_MAX && PATTERN.test(path) && !path.startsWith("//") && !path.includes("..");
}

/** The same predicate as a CEL rule (RE2 `matches`), for x-kubernetes-validations. */
export const HTTP_PATH_CEL = `self.matches(r"${HTTP_PATH_PATTERN}") && !self.startsWith('//') && !self.contains('..')`;
