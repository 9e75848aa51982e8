import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OwletError, owletError } from '../../../shared/errors.js';
import type { Route } from '../contract.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The built dashboard: dist/renderer next to the compiled service (dist/indexer/http/routes →
 * dist/renderer). Running from sources (tests under tsx) the page is still the built one in dist/.
 */
export function defaultDashboardDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const sibling = path.resolve(here, '../../../renderer');
  if (fs.existsSync(path.join(sibling, 'app.js'))) return sibling;
  return path.resolve(here, '../../../../dist/renderer');
}

/**
 * `GET /` serves the dashboard page and its bundled files (same origin, so the strict CSP of
 * the security layer allows them; nothing is fetched from elsewhere). Only the files present at
 * start are served, by exact name: no path from the URL ever reaches the file system.
 */
export function dashboardRoutes(dir: string = defaultDashboardDir()): Route[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir).filter((f) => TYPES[path.extname(f)] !== undefined);
  } catch {
    // Not built: `/` explains instead of a bare 404.
  }
  const send = (name: string): Route['handler'] => async (_req, reply) => {
    const body = await fs.promises.readFile(path.join(dir, name));
    return reply.type(TYPES[path.extname(name)]!).header('Cache-Control', 'no-cache').send(body);
  };
  const page: Route['handler'] = files.includes('index.html')
    ? send('index.html')
    : async () => {
        throw owletError('OWL_ERR_NOT_READY', { reason: `the dashboard is not built (no ${path.join(dir, 'index.html')}); run "npm run build"` });
      };
  // The icons are public: the sign-in page (no session yet) shows them, and browsers ask for
  // /favicon.ico on every page by themselves (the SVG icon answers).
  const isIcon = (f: string) => f.startsWith('favicon.');
  const routes: Route[] = [
    { method: 'GET', url: '/', access: 'authenticated', handler: page },
    ...files.filter((f) => f !== 'index.html').map((f): Route => ({ method: 'GET', url: `/${f}`, access: isIcon(f) ? 'public' : 'authenticated', handler: send(f) })),
  ];
  if (files.includes('favicon.svg') && !files.includes('favicon.ico')) routes.push({ method: 'GET', url: '/favicon.ico', access: 'public', handler: send('favicon.svg') });
  return routes;
}
