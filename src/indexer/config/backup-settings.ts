import { z } from 'zod';

/**
 * The `backup` section of config.json (imported by config/schema.ts; the defaults live here and
 * nowhere else). Backups are taken daily at `hour` (local time), before every schema migration
 * and before every update; retention keeps the newest backup of each of the last `daily` days and
 * of each of the last `weekly` weeks. (The periodic full integrity check is scheduled by monitoring,
 * `monitoring.integrityCheckHours`; a failed check starts recovery through IndexGuardian.)
 */
export const BackupSettings = z
  .object({
    enabled: z.boolean().default(true),
    /** Local hour (0-23) of the daily backup. A day missed (computer off) is caught up after start. */
    hour: z.number().int().min(0).max(23).default(3),
    retention: z
      .object({
        daily: z.number().int().min(1).max(366).default(7),
        weekly: z.number().int().min(0).max(520).default(4),
      })
      .strict()
      .default({ daily: 7, weekly: 4 }),
    /**
     * Incremental backups: after a full backup, later ones store only the documents changed since
     * the previous backup. A new full backup is taken when the increments together pass
     * `fullShare` of the full backup's size, or when the full one is `fullEveryDays` old.
     */
    incremental: z
      .object({
        enabled: z.boolean().default(true),
        fullShare: z.number().min(0).max(10).default(0.5),
        fullEveryDays: z.number().int().min(1).max(365).default(7),
      })
      .strict()
      .default({ enabled: true, fullShare: 0.5, fullEveryDays: 7 }),
    /**
     * The most the backup folder may hold, in bytes; retention removes the oldest restore points
     * past it (never the newest verified one). null: the smaller of 2x the index and 2% of the volume.
     */
    maxBytes: z.number().int().min(1).nullable().default(null),
    /** Where backups go; null means `<dataDir>/backups`. */
    dir: z.string().min(1, 'a backup folder must be a non-empty path').nullable().default(null),
  })
  .strict();

export type BackupConfig = z.infer<typeof BackupSettings>;

export const DEFAULT_BACKUP_CONFIG: BackupConfig = BackupSettings.parse({});
