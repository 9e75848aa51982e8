// The read-only hot standby of headless `owlet run` (host/standby.ts): REAL processes (the built
// dist/ service and standby, forked by runSupervised), the REAL shared listening socket, real
// SIGSTOP/SIGKILL. A stopped primary accepts nothing, so every new connection reaches the standby:
// that is how these tests address one process or the other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { HEADLESS_ENTRY, runSupervised } from '../../../src/indexer/host/run.js';
import { bindListenSocket } from '../../../src/indexer/host/listen-socket.js';
import { forkServiceLauncher } from '../../../src/indexer/host/launcher.js';
import { serveArgs } from '../../../src/indexer/host/indexer-host.js';
import type { IndexerHost } from '../../../src/indexer/host/indexer-host.js';
import type { Supervisor } from '../../../src/indexer/host/supervisor.js';
import { SERVED_BY_HEADER } from '../../../src/indexer/http/standby-server.js';
import { LOCK_FILE, acquireDataLock } from '../../../src/indexer/service/data-lock.js';
import { StandbyIndex } from '../../../src/indexer/service/standby-index.js';
import { openReadOnlyIndex } from '../../../src/indexer/service/read-only-index.js';
import { createLogger } from '../../../src/indexer/log/logger.js';
import { runOwlet } from '../../helpers/cli.js';
import { tmpDir, waitFor } from '../../helpers/tmp.js';
import { isAlive, sleep, within } from './helpers.js';

interface Answer {
  status: number | string;
  body: string;
  servedBy: string | undefined;
  connection: string | undefined;
}

/** One request on a connection of its own (a new connection is what the kernel hands out). */
function get(port: number, p: string, headers: Record<string, string> = {}, timeoutMs = 3_000, method = 'GET'): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, servedBy: res.headers[SERVED_BY_HEADER] as string | undefined, connection: res.headers.connection }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message, body: '', servedBy: undefined, connection: undefined }));
    req.end();
  });
}

interface Running {
  dataDir: string;
  root: string;
  host: IndexerHost;
  standby: Supervisor;
  port: number;
  bearer: Record<string, string>;
  done: Promise<number>;
}

const TOKEN = 'standbyprobetoken';

async function startRun(dataDir: string, root: string): Promise<Running> {
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, `doc${i}.txt`), `document ${i} ${i === 7 ? TOKEN : 'filler'}`);
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ version: 1, roots: [root] }));
  let host: IndexerHost | undefined;
  let standby: Supervisor | undefined;
  const done = runSupervised({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    log: createLogger({ write: () => undefined }),
    out: () => undefined,
    updates: false,
    onHost: (h) => (host = h),
    onStandby: (s) => (standby = s),
    // A hang is never declared during these tests: they stop the primary on purpose.
    supervisor: { heartbeatTimeoutMs: 120_000, backoff: { initialMs: 200, maxMs: 1_000 } },
  });
  assert.ok(host && standby, 'runSupervised made a host and a standby');
  const ready = await host.whenReady(60_000);
  await waitFor(() => standby!.state === 'running', 60_000, 'the standby to run');
  const bearer = { authorization: `Bearer ${fs.readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim()}` };
  // The primary indexes the folder; the token document is searchable.
  await waitFor(async () => JSON.parse((await get(ready.port, `/api/v1/search?q=${TOKEN}`, bearer)).body || '{}').total === 1, 60_000, 'the token document to be indexed');
  return { dataDir, root, host, standby, port: ready.port, bearer, done };
}

async function stopRun(r: Running): Promise<void> {
  const pids = [r.host.pid, r.standby.pid].filter((p): p is number => p !== undefined);
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGCONT');
  process.emit('SIGTERM');
  assert.equal(await within(r.done, 30_000, 'owlet run to stop'), 0);
  assert.deepEqual(pids.filter(isAlive), [], 'no child left alive');
}

describe('the read-only hot standby beside the real service', () => {
  let r: Running;
  // Made here, not in before(): tmpDir's clean-up must run when the file ends, not after the hook.
  const dataDir = tmpDir('owlet-standby-');
  const root = tmpDir('owlet-standby-root-');
  before(async () => {
    r = await startRun(dataDir, root);
  });
  after(async () => {
    if (r) await stopRun(r);
  });

  test('while the primary is SIGSTOPped, readiness and token searches are answered by the standby', async () => {
    const primary = r.host.pid!;
    process.kill(primary, 'SIGSTOP');
    try {
      const answers: Answer[] = [];
      for (let i = 0; i < 20; i++) {
        answers.push(await get(r.port, '/health/ready'));
        answers.push(await get(r.port, `/api/v1/search?q=${TOKEN}&limit=1`, r.bearer));
      }
      assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'every probe answered 200');
      assert.ok(answers.every((a) => a.servedBy === 'standby'), 'by the standby');
      assert.ok(answers.filter((_, i) => i % 2 === 1).every((a) => JSON.parse(a.body).total === 1), 'every search finds the document');
      const badToken = await get(r.port, `/api/v1/search?q=${TOKEN}`, { authorization: 'Bearer wrongwrongwrong' });
      assert.notEqual(badToken.status, 200, 'a wrong token is never served');
    } finally {
      process.kill(primary, 'SIGCONT');
    }
    assert.equal(r.host.pid, primary, 'the primary was not replaced');
  });

  test('what it does not serve reaches the primary; with no primary it is refused with 503 OWL_ERR_STANDBY, Connection: close', async () => {
    const primary = r.host.pid!;
    // A request the standby takes while the primary is stopped waits for the primary's answer.
    process.kill(primary, 'SIGSTOP');
    const status = get(r.port, '/api/v1/status', r.bearer, 10_000);
    const cookie = get(r.port, '/api/v1/status', { cookie: 'owlet_session=forged' }, 10_000);
    await sleep(300);
    process.kill(primary, 'SIGCONT');
    const [s, c] = await Promise.all([status, cookie]);
    assert.equal(s.status, 200, `status: the primary answered through the standby: ${s.body}`);
    assert.equal(s.servedBy, undefined, 'not an answer of the standby\'s own');
    assert.equal(JSON.parse(s.body).counts.indexed, 20);
    assert.equal(c.status, 401, 'a cookie is judged by the primary, which knows no such session');

    // No primary at all: killed, and its restart held back long enough to look.
    const sup = r.host;
    process.kill(primary, 'SIGKILL');
    await waitFor(() => sup.pid !== primary, 10_000, 'the primary to be gone');
    const writes = await Promise.all([get(r.port, '/api/v1/index/pause', r.bearer, 3_000, 'POST'), get(r.port, '/api/v1/index/rescan', r.bearer, 3_000, 'POST'), get(r.port, '/api/v1/status', r.bearer)]);
    // Only answers given while no primary was up count; a restarted one may already answer.
    const refused = writes.filter((w) => w.servedBy === 'standby');
    for (const w of refused) {
      assert.equal(w.status, 503);
      assert.equal(JSON.parse(w.body).error.code, 'OWL_ERR_STANDBY');
      assert.equal(w.connection, 'close');
    }
    await r.host.whenReady(60_000);
  });

  test('a browser session signed in on the primary works through the standby (the primary judges the cookie)', async () => {
    await r.host.whenReady(60_000);
    // A sign-in link (bearer POST) and its code exchanged for the session cookie: wherever these
    // connections land, the primary answers them.
    const link = await get(r.port, '/api/v1/auth/login-link', r.bearer, 10_000, 'POST');
    assert.equal(link.status, 200, link.body);
    const code = new URL(JSON.parse(link.body).url as string).searchParams.get('code')!;
    const login = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: r.port, path: `/login?code=${code}`, agent: false }, (res) => {
        res.resume();
        resolve(String(res.headers['set-cookie']?.[0] ?? '').split(';')[0]!);
      });
      req.on('error', reject);
    });
    assert.match(login, /^owlet_session=/);
    // Now force the standby to take the request: it cannot verify the cookie, the primary does.
    const primary = r.host.pid!;
    process.kill(primary, 'SIGSTOP');
    const session = get(r.port, '/api/v1/session', { cookie: login }, 10_000);
    const search = get(r.port, `/api/v1/search?q=${TOKEN}`, { cookie: login }, 10_000);
    await sleep(300);
    process.kill(primary, 'SIGCONT');
    const [se, sr] = await Promise.all([session, search]);
    assert.equal(se.status, 200, se.body);
    assert.equal(JSON.parse(se.body).auth, 'cookie');
    assert.equal(se.servedBy, undefined, 'answered by the primary');
    assert.equal(sr.status, 200, sr.body);
    assert.equal(sr.servedBy, undefined, 'a cookie search is the primary\'s too');
  });

  test('the standby never takes the data lock: with the primary down, the lock is free', async () => {
    await r.host.whenReady(60_000);
    const primary = r.host.pid!;
    process.kill(primary, 'SIGSTOP');
    try {
      // The primary holds it (stopped, not dead): taken, so refused here.
      await assert.rejects(acquireDataLock(r.dataDir, { purpose: 'test', waitMs: 0, remedy: 'test' }));
    } finally {
      process.kill(primary, 'SIGKILL');
    }
    await waitFor(() => !isAlive(primary), 10_000, 'the primary to die');
    assert.ok(isAlive(r.standby.pid!), 'the standby lives on');
    // Between the primary's death and its restart only the standby runs: the lock must be free.
    let got = false;
    const deadline = Date.now() + 5_000;
    while (!got && Date.now() < deadline && (r.host.state !== 'running' || r.host.pid === primary)) {
      try {
        const lock = await acquireDataLock(r.dataDir, { purpose: 'test', waitMs: 0, remedy: 'test' });
        lock.release();
        got = true;
      } catch {
        await sleep(5);
      }
    }
    if (!got) console.log('# the primary restarted before the lock could be tried; the open files below still show the standby never had it');
    // Whatever the timing: the standby has no descriptor on the lock database at all.
    const fds = fs.readdirSync(`/proc/${r.standby.pid!}/fd`).map((fd) => {
      try {
        return fs.readlinkSync(`/proc/${r.standby.pid!}/fd/${fd}`);
      } catch {
        return '';
      }
    });
    assert.ok(fds.some((f) => f.endsWith('index.db')), `the probe sees the standby's files: ${fds.join(', ')}`);
    assert.deepEqual(fds.filter((f) => path.basename(f).startsWith(LOCK_FILE)), [], 'the standby never opens the lock');
    await r.host.whenReady(60_000);
    // And the restarted primary got it: it is serving again.
    const st = await get(r.port, '/api/v1/status', r.bearer);
    assert.equal(st.status, 200, st.body);
  });

  test('the WAL deleted under the primary: the standby lets go, the primary heals it, the standby reads again', async () => {
    await r.host.whenReady(60_000);
    const wal = path.join(r.dataDir, 'index.db-wal');
    await waitFor(() => fs.existsSync(wal), 10_000, 'a WAL');
    fs.rmSync(wal);
    // The primary can heal only once no other connection has the database open.
    // (The new file may get the old inode number: the old one is free once nobody has it open.)
    await waitFor(() => fs.existsSync(wal), 20_000, 'the primary to recreate the WAL');
    const primary = r.host.pid!;
    await sleep(600); // > two standby checks
    process.kill(primary, 'SIGSTOP');
    try {
      const s = await get(r.port, `/api/v1/search?q=${TOKEN}&limit=1`, r.bearer);
      assert.equal(s.status, 200, s.body);
      assert.equal(s.servedBy, 'standby');
      assert.equal(JSON.parse(s.body).total, 1);
    } finally {
      process.kill(primary, 'SIGCONT');
    }
  });

  test('a primary restarted while the standby serves accepts only once ready: no probe meets a not-ready answer', async () => {
    await r.host.whenReady(60_000);
    const first = r.host.pid!;
    process.kill(first, 'SIGKILL');
    await waitFor(() => !isAlive(first), 10_000, 'the primary to be gone');
    const answers: Promise<Answer>[] = [];
    const started = Date.now();
    while ((r.host.state !== 'running' || r.host.pid === first) && Date.now() - started < 60_000) {
      answers.push(get(r.port, '/health/ready', {}, 10_000));
      answers.push(get(r.port, `/api/v1/search?q=${TOKEN}&limit=1`, r.bearer, 10_000));
      await sleep(25);
    }
    // And a little after ready, when the new primary takes its share of the connections.
    for (let i = 0; i < 20; i++) answers.push(get(r.port, '/health/ready', {}, 10_000));
    const all = await Promise.all(answers);
    assert.ok(all.length > 20, `probes were made during the restart (${all.length})`);
    assert.deepEqual(all.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.servedBy ?? 'primary'} ${a.body.slice(0, 120)}`), [], 'every probe answered 200');
  });

  test('a backup restored under the running primary: it stops accepting meanwhile, so no probe meets its not-ready answer', async () => {
    await r.host.whenReady(60_000);
    const primary = r.host.pid!;
    const made = await get(r.port, '/api/v1/backups', r.bearer, 60_000, 'POST');
    assert.equal(made.status, 201, made.body);
    const id = (JSON.parse(made.body) as { manifest: { id: string } }).manifest.id;
    const answers: Promise<Answer>[] = [];
    let restored: Answer | null = null;
    const restore = get(r.port, `/api/v1/backups/${id}/restore`, r.bearer, 60_000, 'POST').then((a) => (restored = a));
    const started = Date.now();
    while (restored === null && Date.now() - started < 60_000) {
      answers.push(get(r.port, '/health/ready', {}, 10_000));
      answers.push(get(r.port, `/api/v1/search?q=${TOKEN}&limit=1`, r.bearer, 10_000));
      await sleep(20);
    }
    await restore;
    // And after, when the primary accepts again on the socket its supervisor sent back.
    for (let i = 0; i < 20; i++) answers.push(get(r.port, '/health/ready', {}, 10_000));
    const all = await Promise.all(answers);
    assert.equal(restored!.status, 200, restored!.body);
    assert.equal(r.host.pid, primary, 'the primary was not restarted');
    assert.ok(all.length > 20, `probes were made during the restore (${all.length})`);
    assert.deepEqual(all.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.servedBy ?? 'primary'} ${a.body.slice(0, 120)}`), [], 'every probe answered 200');
    // The primary accepts again: stopped, the standby alone answers; running, both share the port.
    const served = new Set<string>();
    for (let i = 0; i < 40 && served.size < 2; i++) served.add((await get(r.port, '/health/ready')).servedBy ?? 'primary');
    assert.deepEqual([...served].sort(), ['primary', 'standby']);
  });

  test('its own supervisor restarts a killed standby; the primary is not touched', async () => {
    await r.host.whenReady(60_000);
    const primary = r.host.pid!;
    const first = r.standby.pid!;
    const crashesBefore = r.host.snapshot().stats.crashes;
    process.kill(first, 'SIGKILL');
    await waitFor(() => r.standby.state === 'running' && r.standby.pid !== first, 30_000, 'a new standby');
    assert.equal(r.host.pid, primary);
    assert.equal(r.host.snapshot().stats.crashes, crashesBefore);
    assert.equal(r.standby.stats.crashes, 1);
    process.kill(primary, 'SIGSTOP');
    try {
      const s = await get(r.port, '/health/ready');
      assert.deepEqual([s.status, s.servedBy], [200, 'standby']);
    } finally {
      process.kill(primary, 'SIGCONT');
    }
  });
});

describe('the standby\'s view of the index (real SQLite files, no service)', () => {
  test('index.db replaced (a restore): it reopens and reads the new file; never reads while the WAL is missing', async () => {
    const data = tmpDir('owlet-standby-ix-');
    const root = tmpDir('owlet-standby-ix-root-');
    fs.writeFileSync(path.join(root, 'a.txt'), 'alphaword');
    assert.equal((await runOwlet(['index', '--root', root, '--data-dir', data])).code, 0);
    const saved = path.join(data, 'saved.db');
    fs.copyFileSync(path.join(data, 'index.db'), saved);
    fs.writeFileSync(path.join(root, 'b.txt'), 'betaword');
    assert.equal((await runOwlet(['index', '--root', root, '--data-dir', data])).code, 0);

    const ix = new StandbyIndex({ dataDir: data, log: createLogger({ write: () => undefined }) });
    assert.equal(ix.check(), 'opened');
    assert.equal(ix.search('betaword', 5, 0).total, 1);
    // What a restore does: a whole new file renamed over index.db.
    fs.renameSync(saved, path.join(data, 'index.db'));
    assert.equal(ix.check(), 'reopened');
    assert.equal(ix.search('betaword', 5, 0).total, 0, 'the new file, not the old inode');
    assert.equal(ix.search('alphaword', 5, 0).total, 1);
    assert.equal(ix.check(), 'ok');
    ix.close();
  });
});

describe('the standby follows the configuration', () => {
  test('a change of search languages opens the index again with the new ones, as the primary does', async () => {
    const data = tmpDir('owlet-standby-lang-');
    const root = tmpDir('owlet-standby-lang-root-');
    fs.writeFileSync(path.join(root, 'a.txt'), 'the runners were running');
    assert.equal((await runOwlet(['index', '--root', root, '--data-dir', data])).code, 0);
    const opened: string[] = [];
    const ix = new StandbyIndex({
      dataDir: data,
      log: createLogger({ write: () => undefined }),
      open: (d, c) => {
        opened.push(c.search.languages.join(','));
        return openReadOnlyIndex(d, c);
      },
    });
    assert.equal(ix.check(), 'opened');
    ix.check(); // settles: opening may have created the WAL, which the next check reopens for
    assert.ok(ix.ready);
    assert.deepEqual([...new Set(opened)], ['en']);
    const file = path.join(data, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as { search?: { languages?: string[] } };
    cfg.search = { ...cfg.search, languages: ['en', 'de'] };
    fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5_000)); // a stamp that surely differs
    ix.check();
    assert.ok(ix.ready);
    assert.deepEqual(opened.slice(-1), ['en,de'], `opened with: ${opened.join(' | ')}`);
    assert.equal(ix.search('run', 5, 0).total, 1);
    ix.close();
  });
});

describe('a service started while a standby serves', () => {
  test('listens only once it has started (the standby answers meanwhile), and serves once ready', async () => {
    const socket = bindListenSocket('127.0.0.1', 0);
    socket.standby = true;
    const child = forkServiceLauncher()({
      modulePath: HEADLESS_ENTRY.modulePath,
      execArgv: HEADLESS_ENTRY.execArgv ?? [],
      args: serveArgs({ dataDir: tmpDir('owlet-standby-late-'), port: socket.port, keyFromHost: false, forwardLogs: 'info', listenHandle: true }),
      listenSocket: socket,
    });
    // The child's forwarded log records and its ready arrive in the order it sent them.
    const said: string[] = [];
    let exited = false;
    child.onMessage((m) => {
      const msg = m as { type?: string; record?: { msg?: string } };
      if (msg.type === 'ready') said.push('ready');
      else if (msg.type === 'log' && msg.record?.msg) said.push(msg.record.msg);
    });
    child.onExit(() => void (exited = true));
    try {
      await waitFor(() => said.includes('ready') || exited, 60_000, 'ready');
      assert.ok(said.includes('ready'), `the service became ready: ${said.join(' | ')}`);
      const onSocket = said.indexOf("listening on the supervisor's socket");
      const announced = said.indexOf('listening');
      assert.ok(onSocket > announced && announced >= 0, `it took the socket after its start (service.json, index, monitoring), not before: ${said.join(' | ')}`);
      assert.equal((await get(socket.port, '/health/ready', {}, 5_000)).status, 200);
    } finally {
      child.send({ type: 'shutdown', reason: 'test' });
      await waitFor(() => exited, 20_000, 'exit');
      socket.close();
    }
  });
});
