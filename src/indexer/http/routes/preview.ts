import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { OwletError } from '../../../shared/errors.js';
import { describeIssues } from '../../config/load.js';
import type { DocumentPreview } from '../../security/preview.js';

const PreviewQuery = z.object({ path: z.string().min(1, 'path is required').max(4096, 'path is longer than 4096 characters') }).strict();

/** `GET /api/v1/preview?path=…`: the first ~2 KB of an indexed document's stored text. */
export function previewRoutes(app: FastifyInstance, preview: (path: string) => DocumentPreview): void {
  app.get('/api/v1/preview', async (req) => {
    const r = PreviewQuery.safeParse(req.query ?? {});
    if (!r.success) throw new OwletError('OWL_ERR_ARG_INVALID', describeIssues(r.error));
    return preview(r.data.path);
  });
}
