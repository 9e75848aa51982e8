import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { owletError } from '../../../shared/errors.js';
import { resolveDataDir } from '../../config/paths.js';
import { runningService } from '../../service/service-file.js';
import { readApiToken } from '../../security/token.js';
import { writeHandoverPage } from '../../security/login-handover.js';
import type { CommandIo as OpenIo } from '../io.js';

/** Opens a URL or a local page in the desktop's browser; false when there is no display or no opener. */
export type BrowserLauncher = (url: string) => Promise<boolean>;

export function hasDisplay(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** xdg-open / open / start, detached; any failure (missing tool, no browser) is just "false". */
export function systemBrowserLauncher(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env, run: typeof spawn = spawn): BrowserLauncher {
  return (url) =>
    new Promise((resolve) => {
      if (!hasDisplay(platform, env)) return resolve(false);
      const [cmd, args] =
        platform === 'darwin' ? ['open', [url]] : platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
      try {
        const child = run(cmd, args as string[], { detached: true, stdio: 'ignore', windowsHide: true });
        child.once('error', () => resolve(false));
        child.once('spawn', () => {
          child.unref();
          resolve(true);
        });
      } catch {
        resolve(false);
      }
    });
}

/** Asks the running service for a one-time sign-in link (needs the API token). */
export async function requestLoginLink(dataDir: string): Promise<string> {
  const running = runningService(dataDir);
  if (!running) throw owletError('OWL_ERR_SERVICE_NOT_RUNNING', { dataDir });
  const token = readApiToken(dataDir);
  let res: Response;
  try {
    res = await fetch(`${running.url}/api/v1/auth/login-link`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    throw owletError('OWL_ERR_SERVICE_UNREACHABLE', { url: running.url, request: 'the sign-in request', reason: (e as Error).message });
  }
  if (!res.ok) throw owletError('OWL_ERR_SERVICE_UNREACHABLE', { url: running.url, request: 'the sign-in request', reason: `HTTP ${res.status}` });
  const body = (await res.json()) as { url?: unknown };
  if (typeof body.url !== 'string') throw owletError('OWL_ERR_INTERNAL', { reason: 'the service answered without a sign-in link' });
  return body.url;
}

/**
 * Opens the sign-in link without exposing its code in argv: the opener gets the path of a private
 * page that forwards to the link (security/login-handover.ts), never the link itself.
 */
export async function openLoginInBrowser(dataDir: string, url: string, launch: BrowserLauncher, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!hasDisplay(process.platform, env)) return false;
  const page = writeHandoverPage(dataDir, url, { env });
  const opened = await launch(page);
  if (!opened) fs.rmSync(page, { force: true });
  return opened;
}

/** `owlet open`: a one-time sign-in link, printed and (where there is a display) opened. */
export async function openDashboard(o: { dataDir?: string; browser: boolean; json?: boolean }, io: OpenIo, launch: BrowserLauncher = systemBrowserLauncher()): Promise<void> {
  const dataDir = resolveDataDir(o.dataDir);
  const url = await requestLoginLink(dataDir);
  const opened = o.browser ? await openLoginInBrowser(dataDir, url, launch) : false;
  if (o.json) return io.out(JSON.stringify({ url, opened }));
  if (opened) return io.out('Opened in your browser. The sign-in works once, within 60 seconds.');
  io.out(url);
  io.out('Open this link in a browser on this computer. It works once, for 60 seconds.');
}
