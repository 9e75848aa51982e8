import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientErrorOf, ErrorCodes, formatError, isErrorCode, owletError, toErrorInfo, type ErrorCode } from '../../src/shared/errors.js';

test('every catalog code has a kind, an HTTP error status, a message template and a remedy a person can act on', () => {
  for (const [code, spec] of Object.entries(ErrorCodes)) {
    assert.match(code, /^OWL_ERR_[A-Z_]+$/);
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
