// A header route: requests matching given headers go to the canary whatever the weight (A/B for a
// tester header or a tenant id). The shape of Gateway API's HTTPRouteMatch headers, which it becomes
// (render/httproute.ts). Used by spec (a step) and status (the route in force).
import { z } from "zod";

/** An HTTP header name (an RFC 9110 token), as Gateway API accepts it. */
const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$";

const HeaderMatchSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(256)
      .regex(new RegExp(HEADER_NAME_PATTERN), "must be an HTTP header name")
      .describe("Header name, matched case-insensitively, e.g. x-canary."),
    value: z.string().min(1).max(4096).describe("Value to match."),
    type: z
      .enum(["Exact", "RegularExpression"])
      .default("Exact")
      .describe("Exact (default) or RegularExpression (the gateway's regex dialect)."),
  })
  .describe("One header condition of an HTTPRoute match.");

export const HeaderRouteSchema = z
  .object({
    matches: z
      .array(
        z
          .object({
            headers: z.array(HeaderMatchSchema).min(1).max(16).describe("All must match (AND)."),
          })
          .describe("A request matching every header here goes to the canary."),
      )
      .max(8)
      .describe("Any one may match (OR). [] removes the header route."),
  })
  .describe(
    "From this step until promotion or abort, requests that match go to the canary whatever the weight (A/B by a tester header or a tenant id). Gateway API mode only; shown in status.headerRoute.",
  );
export type HeaderRoute = z.output<typeof HeaderRouteSchema>;
