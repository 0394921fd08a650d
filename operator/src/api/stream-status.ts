// status.health's stream numbers of a revision (spec.health.stream): what its completed probe
// streams measured over the window. Spread into RevisionHealthSchema (status.ts).
import { z } from "zod";

export const streamHealthFields = {
  streamSamples: z.int().min(0).optional().describe("Completed probe streams in the window."),
  ttftP50Ms: z.number().min(0).optional().describe("Median time to first token of the probe streams, ms."),
  ttftP99Ms: z.number().min(0).optional().describe("p99 time to first token of the probe streams, ms."),
  tpotP99Ms: z
    .number()
    .min(0)
    .optional()
    .describe("p99 time per output token (mean gap between tokens after the first, per stream), ms."),
  tokensPerSecond: z
    .number()
    .min(0)
    .optional()
    .describe("Median output tokens per second of the probe streams (tokens ÷ request start → last token)."),
};
