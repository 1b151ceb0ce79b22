/**
 * The shape of lafited's configuration. Defaults are not here: they live in
 * config/lafited.yaml, which must itself pass this schema, so there is one
 * place to read them. Unknown keys are errors (a typo must not be ignored).
 */
import { z } from "zod";
import cron from "node-cron";
import { CLASS_TAG_MISMATCH } from "../pipeline/class-tag.js";

const positiveInt = z.number().int().min(1);

/** host:port, host:0 (any free port), or [ipv6]:port. */
const listenAddress = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/, {
  message: "must be host:port, e.g. 127.0.0.1:50051 or [::1]:50051",
}).refine((s) => Number(s.slice(s.lastIndexOf(":") + 1)) <= 65535, { message: "port must be 0-65535" });

/** A file path, or null for "not set". */
const nullablePath = z.string().min(1).nullable();

export const SCOPES = ["detect", "admin", "read"] as const;
export type Scope = (typeof SCOPES)[number];

/** One bearer token: its SHA-256 (hex) and what it may do. The token itself is never stored. */
export const TokenEntrySchema = z.strictObject({
  name: z.string().min(1).regex(/^[A-Za-z0-9._@-]+$/, { message: "must be letters, digits, . _ @ or -" }),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, { message: "must be 64 hex digits (the SHA-256 of the token)" }),
  scopes: z.array(z.enum(SCOPES)).min(1),
});
export type TokenEntry = z.infer<typeof TokenEntrySchema>;

const uniqueNames = (list: readonly { name: string }[]) => new Set(list.map((t) => t.name)).size === list.length;
export const TokenListSchema = z.array(TokenEntrySchema).refine(uniqueNames, { message: "token names must be unique" });

/** A frame-rate limit in frames per second, or null for none. */
const rateLimit = z.number().positive().nullable();

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const EXECUTION_PROVIDERS = ["cpu", "cuda"] as const;

/** A cron expression (node-cron syntax) or null for off. */
const jobSchedule = z.strictObject({
  schedule: z
    .string()
    .refine((s) => cron.validate(s), { message: "is not a valid cron expression (node-cron: [second] minute hour day-of-month month day-of-week)" })
    .nullable(),
  promotion: z.enum(["auto", "manual"]),
  /** The job body's options for every run of this kind (each body checks its own keys, e.g. retrain's minutes). */
  options: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
});

export const ConfigSchema = z.strictObject({
  listen: listenAddress,
  dataDir: z.string().min(1),
  bundle: z.string().min(1).nullable(),
  model: z.strictObject({
    executionProvider: z.enum(EXECUTION_PROVIDERS),
    intraOpThreads: z.number().int().min(0),
    classTagMismatch: z.enum(CLASS_TAG_MISMATCH),
    unlikeMargin: z.number().min(0).finite(),
  }),
  server: z.strictObject({
    maxReceiveMessageBytes: positiveInt,
    maxSendMessageBytes: positiveInt,
    keepalive: z.strictObject({
      timeMs: positiveInt,
      timeoutMs: positiveInt,
    }),
    shutdownGraceMs: z.number().int().min(0),
    tls: z
      .strictObject({
        cert: nullablePath,
        key: nullablePath,
        clientCa: nullablePath,
        requireClientCert: z.boolean(),
      })
      .refine((t) => (t.cert === null) === (t.key === null), { message: "cert and key must be set together (both paths, or both null for plaintext)" })
      .refine((t) => t.cert !== null || (t.clientCa === null && !t.requireClientCert), { message: "clientCa and requireClientCert need TLS (set cert and key)" })
      .refine((t) => !t.requireClientCert || t.clientCa !== null, { message: "requireClientCert needs clientCa (the CA that signs client certificates)" }),
  }),
  auth: z.strictObject({
    tokens: TokenListSchema,
    tokensFile: nullablePath,
    clientCerts: z.array(
      z.strictObject({
        subject: z.string().regex(/^\s*[A-Za-z]+\s*=[^,]+(,\s*[A-Za-z]+\s*=[^,]+)*$/, { message: "must be attribute=value pairs, e.g. \"CN=line-3\" or \"CN=line-3, O=Acme\"" }),
        scopes: z.array(z.enum(SCOPES)).min(1),
      }),
    ),
    openHealth: z.boolean(),
    openReflection: z.boolean(),
    allowPlaintext: z.boolean(),
  }),
  metrics: z.strictObject({
    listen: listenAddress.nullable(),
  }),
  queue: z.strictObject({
    perStream: positiveInt,
    maxWaiting: z.number().int().min(0),
    concurrency: positiveInt,
  }),
  limits: z.strictObject({
    maxPixels: positiveInt,
    maxRegions: z.number().int().min(0),
    perPeer: z.strictObject({
      maxStreams: positiveInt.nullable(),
      framesPerSecond: rateLimit,
    }),
    perToken: z.strictObject({
      framesPerSecond: rateLimit,
    }),
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
