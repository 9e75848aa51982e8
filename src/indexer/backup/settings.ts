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
    /** Where backups go; null means `<dataDir>/backups`. */
    dir: z.string().min(1, 'a backup folder must be a non-empty path').nullable().default(null),
  })
  .strict();

export type BackupConfig = z.infer<typeof BackupSettings>;

export const DEFAULT_BACKUP_CONFIG: BackupConfig = BackupSettings.parse({});
