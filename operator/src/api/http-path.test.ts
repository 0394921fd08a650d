import { describe, expect, it } from "vitest";
import { HTTP_PATH_CEL, HTTP_PATH_PATTERN, isHttpRequestPath } from "./http-path.ts";

describe("isHttpRequestPath", () => {
  it.each([
    "/",
    "/v2/health/ready",
    "/v2/models/recommender/infer",
    "/v2/models/llama-3.1-8b/ready",
    "/v1/chat/completions?stream=false&x=a%20b",
    "/ping;v=1",
    "/a:b@c/~x_y!$&'()*+,=",
  ])("accepts %s", (path) => {
    expect(isHttpRequestPath(path)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["relative", "health"],
    ["a space (ends the request-target)", "/ready HTTP/1.1"],
    ["CR LF (a header injection)", "/a\r\nHost: evil"],
    ["a tab", "/a\tb"],
    ["a fragment", "/a#b"],
    ["a network-path reference", "//169.254.169.254/latest"],
    ["a parent segment", "/v2/../admin"],
    ["a broken escape", "/a%2"],
    ["non-ASCII", "/modèle"],
    ["a backslash", "/a\\b"],
    ["quotes and angle brackets", '/a"<b>'],
    ["too long", `/${"a".repeat(256)}`],
  ])("refuses %s", (_why, path) => {
    expect(isHttpRequestPath(path)).toBe(false);
  });

  it("says the same in CEL: one RE2-safe pattern, no lookaround or backreference", () => {
    expect(HTTP_PATH_CEL).toContain(`self.matches(r"${HTTP_PATH_PATTERN}")`);
    expect(HTTP_PATH_PATTERN).not.toMatch(/\(\?[=!<]|\\[1-9]/);
    expect(HTTP_PATH_PATTERN).not.toContain('"');
  });
});
