import type { DoctorCheck } from '../types.js';
import { datadirCheck } from './datadir.js';
import { configCheck } from './config.js';
import { updatesCheck } from './updates.js';
import { serviceCheck } from './service.js';
import { databaseCheck } from './database.js';
import { integrityCheckOfIndex } from './integrity.js';
import { ftsCheck } from './fts.js';
import { recordIntegrity } from './record-integrity.js';
import { rootsCheck } from './roots.js';
import { keysCheck } from './keys.js';
import { auditCheck } from './audit.js';
import { metricsCheck } from './metrics.js';
import { diskCheck } from './disk.js';
import { liveServiceCheck } from './live-service.js';
import { backupCheck } from './backup.js';

/**
 * Every check of `owlet doctor`, in report order. The order is also the order of dependence: a
 * check reads what earlier ones put in the context (the configuration before the database, the
 * index before integrity, fts and roots, the integrity verdict recorded before metrics.db is
 * looked at, the doctor's own findings before the live service's are added).
 */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  datadirCheck,
  configCheck,
  updatesCheck,
  serviceCheck,
  databaseCheck,
  integrityCheckOfIndex,
  ftsCheck,
  recordIntegrity,
  rootsCheck,
  keysCheck,
  auditCheck,
  metricsCheck,
  diskCheck,
  liveServiceCheck,
  backupCheck,
];
