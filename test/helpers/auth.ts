import fs from 'node:fs';
import path from 'node:path';

/** The running service's bearer header, read from `<dataDir>/api-token` (created by serve/run). */
export function authHeaders(dataDir: string): Record<string, string> {
  const token = fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
  return { Authorization: `Bearer ${token}` };
}

/** fetch with the bearer token and a 5 s deadline unless the caller gives its own signal. */
export function fetchAuthed(dataDir: string, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(authHeaders(dataDir))) if (!headers.has(k)) headers.set(k, v);
  return fetch(url, { signal: AbortSignal.timeout(5000), ...init, headers });
}
