import type { ServiceInfo } from '../../../shared/api.js';
import { type OwletError, fromErrorInfo, isErrorCode, owletError } from '../../../shared/errors.js';

/**
 * The CLI's client for a running service: one GET over node:http with the API token and nothing
 * else loaded (no schema library, no HTTP framework, no keys; not even fetch, whose first call
 * costs more than the whole request), so a command that a service can answer starts at Node's
 * own speed.
 */
export type ServiceAnswer<T> = { ok: true; body: T } | { ok: false; status: number | null; error: OwletError };

async function get(url: string, token: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  // Loaded here, not at the top: a command that finds no service never pays for node:http.
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    // No keep-alive: the process exits as soon as the answer is in.
    const req = http.get(url, { agent: false, headers: { Authorization: `Bearer ${token}`, Connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.setEncoding('utf8');
      let text = '';
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export async function askService<T>(running: ServiceInfo, token: string, pathAndQuery: string, request: string, timeoutMs = 5000): Promise<ServiceAnswer<T>> {
  const unreachable = (reason: string): ServiceAnswer<T> => ({ ok: false, status: null, error: owletError('OWL_ERR_SERVICE_UNREACHABLE', { url: running.url, request, reason }) });
  let res: { status: number; text: string };
  try {
    res = await get(`${running.url}${pathAndQuery}`, token, timeoutMs);
  } catch (e) {
    return unreachable((e as Error).message);
  }
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = null;
  }
  if (res.status >= 200 && res.status < 300) {
    if (body === null) return unreachable(`HTTP ${res.status} with an answer that is not JSON`);
    return { ok: true, body: body as T };
  }
  // Errors arrive as { error: { code, message } } with a catalog code (http/server.ts).
  const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const error = isErrorCode(err?.code) && typeof err?.message === 'string' ? fromErrorInfo({ code: err.code, message: err.message }) : owletError('OWL_ERR_SERVICE_UNREACHABLE', { url: running.url, request, reason: `HTTP ${res.status}` });
  return { ok: false, status: res.status, error };
}
