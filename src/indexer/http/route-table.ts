import type { UpdateSummary } from '../../shared/api.js';
import type { BackupApi } from '../backup/listing.js';
import type { Observability } from '../metrics/monitoring.js';
import type { DocumentPreview } from '../service/preview.js';
import type { ConfigEditorApi } from '../service/config-editor.js';
import type { ProblemsApi, Route, ServiceApi } from './contract.js';
import { alertRoutes } from './routes/alerts.js';
import { authRoutes, type AuthRouteOptions } from './routes/auth.js';
import { backupRoutes } from './routes/backup.js';
import { coreRoutes } from './routes/core.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { previewRoutes } from './routes/preview.js';
import { problemRoutes } from './routes/problems.js';
import { configRoutes } from './routes/roots.js';
import { timeseriesRoutes } from './routes/timeseries.js';
import { updateRoutes, type UpdateCardApi } from './routes/updates.js';

/** The features a service brings; each absent one simply has no routes (tests drive subsets). */
export interface RouteFeatures {
  api: ServiceApi;
  /** Metrics, health report, alerts, time series and the dashboard page. */
  observability?: Observability;
  dashboardDir?: string;
  /** Backups and restore of the running service. */
  backups?: BackupApi;
  /** Sign-in routes (only with authentication on). */
  auth?: AuthRouteOptions;
  /** The update state added to GET /api/v1/status (update/summary.ts). */
  updates?: () => UpdateSummary;
  /** The dashboard's Updates card: view, check, apply, rollback (routes/updates.ts). */
  updateCard?: UpdateCardApi;
  /** GET /api/v1/preview (indexed documents under the roots only). */
  preview?: (path: string) => DocumentPreview;
  /** Folders, exclusions and settings from the dashboard (validated, audited, applied). */
  config?: ConfigEditorApi;
  /** The problem list by reason and "try again". */
  problems?: ProblemsApi;
}

/**
 * THE route table: every endpoint the service answers, with whether it is public and whether it
 * is rate-limited. buildServer registers exactly these and the auth guard reads its public list
 * from here, so an endpoint cannot be added without deciding who may call it.
 */
export function routeTable(f: RouteFeatures): Route[] {
  const obs = f.observability;
  return [
    ...healthRoutes(f.api, obs),
    ...coreRoutes(f.api, f.updates),
    ...(obs ? [...metricsRoutes(obs), ...alertRoutes(obs), ...timeseriesRoutes(obs), ...dashboardRoutes(f.dashboardDir)] : []),
    ...(f.backups ? backupRoutes(f.backups) : []),
    ...(f.auth ? authRoutes(f.auth) : []),
    ...(f.preview ? previewRoutes(f.preview) : []),
    ...(f.config ? configRoutes(f.config) : []),
    ...(f.problems ? problemRoutes(f.problems) : []),
    ...(f.updateCard ? updateRoutes(f.updateCard) : []),
  ];
}
