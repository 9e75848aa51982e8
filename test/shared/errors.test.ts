import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { clientErrorOf, ErrorCodes, formatError, fromErrorInfo, isErrorCode, owletError, toErrorInfo, type ErrorCode } from '../../src/shared/errors.js';

test('every catalog code has a kind, an HTTP error status, a message template and a remedy a person can act on', () => {
  for (const [code, spec] of Object.entries(ErrorCodes)) {
    assert.match(code, /^OWL_ERR_[A-Z_]+$/);
    assert.ok(spec.kind.length > 0, `${code} needs a kind`);
    assert.ok(spec.http >= 400 && spec.http < 600, `${code}: ${spec.http}`);
    assert.ok(spec.message.length > 0, code);
    assert.ok(spec.remedy.length >= 15, `${code} needs a remedy`);
    // Usage errors are the client's fault: never a 5xx.
    if (spec.kind === 'usage') assert.ok(spec.http < 500, `${code} is a usage error with status ${spec.http}`);
  }
  assert.equal(ErrorCodes.OWL_ERR_ROOT_REFUSED.http, 400);
});

test('owletError fills the template from named facts and carries the remedy across boundaries', () => {
  const e = owletError('OWL_ERR_BACKUP_NOT_FOUND', { id: '20261202T1000Z-ab12', dir: '/b' }, { cause: new Error('x') });
  assert.equal(e.message, 'no backup "20261202T1000Z-ab12" in /b');
  assert.equal(e.httpStatus, 404);
  assert.equal(e.remedy, ErrorCodes.OWL_ERR_BACKUP_NOT_FOUND.remedy);
  assert.ok(e.cause instanceof Error);
  assert.deepEqual(toErrorInfo(e), { code: 'OWL_ERR_BACKUP_NOT_FOUND', message: e.message, remedy: e.remedy });
  assert.equal(formatError('OWL_ERR_FS', { what: 'listing /mnt', ms: 50 }), 'listing /mnt did not answer within 50 ms');
  // A missing fact is visible, not a crash at the throw site.
  assert.equal(formatError('OWL_ERR_DB_FULL', {} as { file: string }), 'the disk holding ? is full');
});

test('only catalog codes are codes: prototype names and foreign codes are not', () => {
  assert.ok(isErrorCode('OWL_ERR_INTERNAL'));
  for (const c of ['toString', 'constructor', 'SQLITE_CORRUPT', 'FST_ERR_CTP_BODY_TOO_LARGE', undefined, 7]) assert.equal(isErrorCode(c), false, String(c));
});

test('clientErrorOf: Owlet errors as they are, library 4xx under a catalog code, everything else internal and opaque', () => {
  const own = clientErrorOf(owletError('OWL_ERR_ARG_INVALID', { reason: 'limit: too big' }));
  assert.deepEqual(own, { status: 400, code: 'OWL_ERR_ARG_INVALID', message: 'limit: too big', remedy: ErrorCodes.OWL_ERR_ARG_INVALID.remedy });
  const lib = clientErrorOf(Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }));
  assert.equal(lib.code, 'OWL_ERR_HTTP_TOO_LARGE');
  assert.equal(lib.status, 413);
  const odd = clientErrorOf(Object.assign(new Error('teapot'), { statusCode: 418, code: 'FST_TEAPOT' }));
  assert.equal(odd.code, 'OWL_ERR_ARG_INVALID' satisfies ErrorCode);
  for (const thrown of [Object.assign(new Error('SQLITE_IOERR /secret'), { code: 'SQLITE_IOERR' }), 'a string', null, { statusCode: 502, code: 'ECONNRESET' }]) {
    const c = clientErrorOf(thrown);
    assert.equal(c.status, 500);
    assert.equal(c.code, 'OWL_ERR_INTERNAL');
    assert.doesNotMatch(c.message, /secret|SQLITE/);
  }
});

test('an error that crossed a boundary is re-created as it came: code, message and detail kept, remedy from the catalog', () => {
  const e = fromErrorInfo({ code: 'OWL_ERR_SERVICE_RUNNING', message: 'made on the other side', detail: { dataDir: '/d' } });
  assert.equal(e.message, 'made on the other side');
  assert.equal(e.httpStatus, 409);
  assert.deepEqual(e.detail, { dataDir: '/d' });
  assert.equal(e.remedy, ErrorCodes.OWL_ERR_SERVICE_RUNNING.remedy);
});

/**
 * Throw sites name a code and the facts; the catalog words the message. A ready message may only
 * enter an OwletError in shared/errors.ts (owletError, fromErrorInfo). Files listed here still word
 * their own, each with the reason; the list only shrinks.
 */
// Nothing is exempt any more: every throw site in src/ goes through the catalog (owletError) or
// re-creates an error that crossed a boundary (fromErrorInfo). A new entry needs its reason.
const HAND_WORDED_ALLOWED: Record<string, string> = {};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(d.name) ? [p] : [];
  });
}

test('no throw site builds an OwletError from a hand-written message (outside the allow-listed files, each with its reason)', () => {
  const found: string[] = [];
  for (const file of sourceFiles('src')) {
    const rel = file.split(path.sep).join('/');
    if (rel === 'src/shared/errors.ts') continue;
    const text = fs.readFileSync(file, 'utf8');
    // `new OwletError(` and subclasses calling `super('OWL_ERR_…', message)` bypass the catalog's template.
    const hits = [...text.matchAll(/new OwletError\s*\(|super\(\s*'OWL_ERR_/g)];
    if (hits.length === 0) continue;
    if (Object.keys(HAND_WORDED_ALLOWED).some((k) => rel === k || (k.endsWith('/') && rel.startsWith(k)))) continue;
    for (const h of hits) found.push(`${rel}:${text.slice(0, h.index).split('\n').length}`);
  }
  assert.deepEqual(found, [], 'use owletError(code, facts), adding a code or template to src/shared/errors.ts if none fits');
  // The allow-list names real files that still need it (an entry nobody needs any more is removed).
  for (const k of Object.keys(HAND_WORDED_ALLOWED)) assert.ok(fs.existsSync(k), `${k} is allow-listed but does not exist`);
});
