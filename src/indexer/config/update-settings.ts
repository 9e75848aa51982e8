import { z } from 'zod';

/**
 * The `updates` section of config.json (imported by config/schema.ts; defaults live here only).
 * The machine policy file (policy.ts) outranks every field that it sets.
 */
export const HealthGateSettings = z
  .object({
    /** The new version must answer /health/ready within this long after it starts. */
    readySeconds: z.number().int().min(1).max(3_600).default(30),
    /** …and must not crash (or crash-loop) within this long, or it is rolled back. */
    stableSeconds: z.number().int().min(0).max(86_400).default(300),
  })
  .strict();

export const UpdateSettings = z
  .object({
    /** Base URL of the feed folder (http or https); null: no feed configured, updates are off. */
    feedUrl: z
      .string()
      .refine((u) => /^https?:\/\/[^\s]+$/i.test(u), { message: 'the feed must be an http:// or https:// URL' })
      .nullable()
      .default(null),
    /** Manifest name prefix, as electron-updater: `latest` reads latest-linux.yml. */
    channel: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a channel is a lower-case word such as latest or beta').default('latest'),
    /** Hours between automatic checks (each jittered by ±25%); 0 turns automatic checks off. */
    checkHours: z.number().min(0).max(720).default(6),
    /** Install a verified update found by an automatic check without asking. */
    autoApply: z.boolean().default(true),
    /** No byte for this long abandons a download. */
    stallSeconds: z.number().int().min(1).max(3_600).default(30),
    /** A download that takes longer than this is abandoned. */
    downloadMinutes: z.number().int().min(1).max(1_440).default(30),
    healthGate: HealthGateSettings.default({ readySeconds: 30, stableSeconds: 300 }),
  })
  .strict();

export type UpdateConfig = z.infer<typeof UpdateSettings>;

export const DEFAULT_UPDATE_CONFIG: UpdateConfig = UpdateSettings.parse({});

/** Delay to the next automatic check: `checkHours` jittered by ±25% so a fleet does not hit the feed at once. */
export function nextCheckDelayMs(checkHours: number, random: () => number = Math.random): number | null {
  if (checkHours <= 0) return null;
  return Math.round(checkHours * 3_600_000 * (0.75 + 0.5 * random()));
}
