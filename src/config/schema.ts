/**
 * The shape of lafited's configuration. Defaults are not here: they live in
 * config/lafited.yaml, which must itself pass this schema, so there is one
 * place to read them. Unknown keys are errors (a typo must not be ignored).
 */
import { z } from "zod";
import cron from "node-cron";

const positiveInt = z.number().int().min(1);

/** host:port, host:0 (any free port), or [ipv6]:port. */
const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, {
  message: "must be host:port, e.g. 127.0.0.1:50051 or [::1]:50051",
}).refine((s) => Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, { message: "port must be 0-65535" });

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const EXECUTION_PROVIDERS = ["cpu", "cuda"] as const;

/** A cron expression (node-cron syntax) or null for off. */
const jobSchedule = z.strictObject({
  schedule: z
    .string()
    .refine((s) => cron.validate(s), { message: "is not a valid cron expression (node-cron: [second] minute hour day-of-month month day-of-week)" })
    .nullable(),
  promotion: z.enum(["auto", "manual"]),
});

export const ConfigSchema = z.strictObject({
  listen: listenAddress,
  dataDir: z.string().min(1),
  bundle: z.string().min(1).nullable(),
  model: z.strictObject({
    executionProvider: z.enum(EXECUTION_PROVIDERS),
    intraOpThreads: z.number().int().min(0),
  }),
  server: z.strictObject({
    maxReceiveMessageBytes: positiveInt,
    maxSendMessageBytes: positiveInt,
    keepalive: z.strictObject({
      timeMs: positiveInt,
      timeoutMs: positiveInt,
    }),
    shutdownGraceMs: z.number().int().min(0),
  }),
  queue: z.strictObject({
    perStream: positiveInt,
    maxWaiting: z.number().int().min(0),
    concurrency: positiveInt,
  }),
  limits: z.strictObject({
    maxPixels: positiveInt,
    maxRegions: z.number().int().min(0),
  }),
  log: z.strictObject({
    level: z.enum(LOG_LEVELS),
  }),
  admin: z.strictObject({
    allowRemote: z.boolean(),
  }),
  frameCache: z.strictObject({
    maxBytes: z.number().int().min(0),
    maxAgeMs: z.number().int().min(0),
  }),
  ledger: z.strictObject({
    dailyQuota: z.number().int().min(0),
    scoreCeiling: z.number().positive(),
    holdoutShare: z.number().min(0).max(1),
  }),
  promotion: z.strictObject({
    keepVersions: positiveInt,
    aurocTolerance: z.number().min(0).max(1),
    pseudoValidationData: z.string().min(1).nullable(),
  }),
  jobs: z.strictObject({
    refresh: jobSchedule,
    retrain: jobSchedule,
    nice: z.number().int().min(0).max(19),
    intraOpThreads: z.number().int().min(0),
    heartbeatMs: positiveInt,
  }),
});

export type Config = z.infer<typeof ConfigSchema>;
