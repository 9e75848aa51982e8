import fs from 'node:fs';
import path from 'node:path';
import { ProtectedIndex, type ProtectedIndexOptions } from '../../../src/indexer/recovery/protected-index.js';
import type { GuardianPhase } from '../../../src/indexer/recovery/plan.js';
import type { ServiceHost } from '../../../src/indexer/service/host.js';
import type { BackupReason } from '../../../src/indexer/backup/manifest.js';
import { backupBeforeMigration } from '../../../src/indexer/backup/migration.js';
import { indexedPathList } from '../../../src/indexer/store/stats.js';
import { nullLogger, type Logger } from '../../../src/indexer/log/logger.js';
import { OwletService } from '../../../src/indexer/service/service.js';
import { tmpDir, writeTree, waitFor } from '../../helpers/tmp.js';

/** A small corpus: each file has a word found nowhere else (`uniq<i>word`) and a common one. */
export function makeCorpus(root: string, n: number, prefix = 'doc'): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files[`${i % 3 === 0 ? 'sub/' : ''}${prefix}${i}.txt`] = `title line ${i}\nthe common heron flies; uniq${i}word appears only here. ${'filler text '.repeat(40)}\n`;
  writeTree(root, files);
  return files;
}

export function writeConfig(dataDir: string, config: Record<string, unknown>): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify(config, null, 2));
}

export type GuardedOptions = Partial<ProtectedIndexOptions> & { log?: Logger };

/**
 * The protected index (host + guardian + backups + integrity schedule) as serve composes it,
 * with the shortcuts the recovery tests use.
 */
export class Guarded {
  private started = false;
  constructor(readonly pi: ProtectedIndex) {}
  get service(): ServiceHost {
    return this.pi.host;
  }
  get phase(): GuardianPhase {
    return this.pi.guardian.phase;
  }
  get lastRecovery() {
    return this.pi.guardian.lastRecovery;
  }
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.pi.start();
  }
  create(reason?: BackupReason) {
    return this.pi.backups.create(reason);
  }
  verify(id?: string) {
    return this.pi.backups.verify(id);
  }
  restore(id: string) {
    return this.pi.backups.restore(id);
  }
  list() {
    return this.pi.backups.list();
  }
  settled() {
    return this.pi.guardian.settled();
  }
  checkFile() {
    this.pi.guardian.checkFile();
  }
  /** The periodic integrity check, run now. */
  checkIntegrity() {
    return this.pi.integrity.runNow();
  }
  stop() {
    return this.pi.stop();
  }
}

export async function openGuardian(dataDir: string, opts: GuardedOptions = {}): Promise<Guarded> {
  const log = opts.log ?? nullLogger;
  return new Guarded(
    await ProtectedIndex.open({
      dataDir,
      log,
      fileCheckMs: 3_600_000,
      catchUpDelayMs: 3_600_000,
      level: 1,
      create: (hooks) => new OwletService({ dataDir, log, watch: false, beforeMigrate: backupBeforeMigration, ...hooks }),
      ...opts,
    }),
  );
}

/** The service open right now behind the host (fails the test when none is). */
export function live(g: Guarded | ServiceHost): OwletService {
  const c = (g instanceof Guarded ? g.service : g).current();
  if (!c.ok) throw c.error;
  return c.service;
}

/** Starts the service behind the guardian and waits for its first reconcile and any recovery to finish. */
export async function startAndSettle(g: Guarded): Promise<void> {
  await g.start();
  await settle(g);
}

export async function settle(g: Guarded): Promise<void> {
  await waitFor(() => g.phase === 'serving' || g.phase === 'failed', 60_000, 'recovery and reconcile to finish');
  await g.service.rescan();
}

/** A fresh folder with a corpus of `n` files and its config, and a started, settled guardian over it. */
export async function corpusUnderGuard(prefix: string, n: number): Promise<{ base: string; root: string; data: string; g: Guarded }> {
  const base = tmpDir(prefix);
  const root = path.join(base, 'docs');
  const data = path.join(base, 'data');
  makeCorpus(root, n);
  writeConfig(data, { roots: [root] });
  const g = await openGuardian(data);
  await startAndSettle(g);
  return { base, root, data, g };
}

/** Regular files under root, as absolute paths. */
export function diskFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

export function indexedPaths(g: Guarded | ServiceHost): string[] {
  return indexedPathList(live(g).ctx.db);
}

export function hits(g: Guarded, q: string): string[] {
  return g.service.search(q, 50, 0).hits.map((h) => h.path).sort();
}

/** A deterministic PRNG (mulberry32): the same "random" pages every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Damage = 'garbage-pages' | 'truncate' | 'zeros' | 'delete';

/** Damages a (closed) database file the way disks and people do. Returns what was done. */
export function damage(file: string, kind: Damage, seed = 7): string {
  const size = fs.statSync(file).size;
  const page = 4096;
  const pages = Math.floor(size / page);
  switch (kind) {
    case 'garbage-pages': {
      const r = rng(seed);
      const fd = fs.openSync(file, 'r+');
      const hit = new Set<number>();
      // A quarter of the pages, at least 3, page 1 (the header) included when the draw says so.
      const want = Math.min(pages, Math.max(3, Math.floor(pages / 4)));
      while (hit.size < want) hit.add(Math.floor(r() * pages));
      for (const p of hit) {
        const buf = Buffer.alloc(page);
        for (let i = 0; i < page; i++) buf[i] = Math.floor(r() * 256);
        fs.writeSync(fd, buf, 0, page, p * page);
      }
      fs.closeSync(fd);
      return `${hit.size} of ${pages} pages overwritten with random bytes (pages ${[...hit].sort((a, b) => a - b).join(', ')})`;
    }
    case 'truncate': {
      const to = Math.floor(size / 2) + 123;
      fs.truncateSync(file, to);
      return `truncated from ${size} to ${to} bytes`;
    }
    case 'zeros':
      fs.writeFileSync(file, Buffer.alloc(size));
      return `${size} bytes replaced with zeros`;
    case 'delete':
      fs.rmSync(file);
      for (const s of ['-wal', '-shm']) fs.rmSync(file + s, { force: true });
      return 'deleted';
  }
}
