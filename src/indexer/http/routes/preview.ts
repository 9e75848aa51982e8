import type { DocumentPreview } from '../../service/preview.js';
import { parseOr400, PreviewQuery, type Route } from '../contract.js';

/** `GET /api/v1/preview?path=…`: the first ~2 KB of an indexed document's stored text. */
export function previewRoutes(preview: (path: string) => DocumentPreview): Route[] {
  return [
    {
      method: 'GET',
      url: '/api/v1/preview',
      access: 'authenticated',
      rateLimited: true,
      handler: async (req) => preview(parseOr400(PreviewQuery, req.query).path),
    },
  ];
}
