import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, type Config } from '../../src/indexer/config/schema.js';
import { saveConfig } from '../../src/indexer/config/load.js';
import { percentile } from '../lib/stats.js';
import { writeChaosCorpus, writeDocument, tokenFor } from '../lib/doc-corpus.js';
import { EXPECTED_ALERT, FAULT_KINDS, FAULTS, REAL_WORLD_PER_DAY, STANDING_BY_DESIGN, type FaultContext, type FaultKind } from './faults.js';
import { AvailabilityProber, FreshnessProber } from './probes.js';
import { attributeOutages } from './attribute.js';
import { seeded } from '../lib/rng.js';
import { request, settle, startTarget, type Target } from '../lib/target.js';

/**
 * The chaos run: a real `owlet run` on a generated corpus, two probers, and a seeded fault injector.
 * It measures what a fleet operator signs off on: availability, recovery time per fault kind,
 * documents lost (the index must equal the disk afterwards), the alerts raised and cleared, a clean
 * `owlet doctor`, and peak memory and descriptors. Its JSON summary format is documented in
 * docs/operations/validation.md so runs can be compared.
 */

export interface ChaosOptions {
  minutes: number;
  seed: number;
  /** Generated corpus size (ordinary documents; the hostile subset is added). */
  files: number;
  /** Mean time between faults. */
  faultEveryMs: number;
  burstFiles: number;
  /** An existing folder to index as well (read-only use), e.g. a real document corpus. */
  corpus?: string;
  /** Where to put everything (default: a new temp folder, removed at the end unless keep). */
  workDir?: string;
  keep?: boolean;
  /** Add the hostile subset to the corpus (default true; the short test leaves it to the resilience tests). */
  hostile?: boolean;
  /** Longest wait for the service to settle after the faults (default 3 min). */
  settleMs?: number;
  /** Only these kinds (default all). */
  kinds?: readonly FaultKind[];
  /** Stop injecting after this many faults, even before the time is up (the short run: one round). */
  maxFaults?: number;
  log?: (line: string) => void;
}

export interface FaultRecord {
  kind: FaultKind;
  at: string;
  note: string;
  skipped?: string;
  /** From the end of the fault until the service answered correctly again (5 probes in a row). */
  recoveryMs: number | null;
  failedProbes: number;
  alerts: string[];
  /**
   * The alert this kind calls for (EXPECTED_ALERT) is over by the end of the run: every occurrence
   * attributed to this fault resolved (or, lost with a killed process, its rule is not firing at
   * the end), or it stays by design (STANDING_BY_DESIGN). null: the kind calls for no alert, or none fired.
   */
  alertCleared: boolean | null;
}

export interface ChaosSummary {
  format: 'owlet-chaos/1';
  startedAt: string;
  seed: number;
  minutes: number;
  files: number;
  faultEveryMs: number;
  probes: { total: number; ok: number; failed: number; availability: number; errors: Record<string, number> };
  recovery: Record<string, { count: number; skipped: number; maxMs: number | null; p95Ms: number | null; unrecovered: number; failedProbes: number }>;
  freshness: { samples: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null; neverSearchable: number };
  documents: { expected: number; lost: number; phantom: number; lostExamples: string[]; phantomExamples: string[]; settledMs: number };
  /**
   * stillFiring: rules firing at the end. vanished: alerts seen firing that the final view holds
   * neither as active nor in the history (lost with a killed process before they were saved).
   */
  alerts: { expected: Record<string, { fired: number; cleared: number; of: number }>; seen: Record<string, number>; stillFiring: string[]; vanished: string[] };
  doctor: { clean: boolean; failed: string[]; degraded: string[] };
  resources: { peakRssMb: number; peakFds: number; peakProcesses: number };
  equivalence: { realWorldDays: number; perKind: Record<string, number>; assumption: string };
  targets: { availability: boolean; recoveryUnder30s: boolean; noDocumentsLost: boolean };
  faults: FaultRecord[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function libfaketime(): string | null {
  for (const p of ['/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1', '/usr/lib/faketime/libfaketimeMT.so.1']) if (fs.existsSync(p)) return p;
  return null;
}

/** A private tmpfs for the data folder, so the disk-full fault fills only Owlet's own volume. */
function mountTmpfs(dir: string, mb: number): boolean {
  if (process.getuid?.() !== 0) return false;
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m,mode=0700`, 'tmpfs', dir], { timeout: 10_000 });
  return r.status === 0;
}

function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir], { timeout: 10_000 });
}

function chaosConfig(roots: string[], extractTimeoutMs: number): Config {
  const d = defaultConfig();
  return {
    ...d,
    roots,
    extractors: { ...d.extractors, timeoutMs: extractTimeoutMs },
    indexing: { ...d.indexing, rescanMinutes: 0 },
    resilience: { ...d.resilience, rootCheckMs: 1000, pauseOnBattery: false },
    monitoring: {
      ...d.monitoring,
      sampleSeconds: 1,
      // Checked often enough that damage is found during the run, as the daily check finds it in life.
      integrityCheckHours: 20 / 3600,
      alerts: {
        ...d.monitoring.alerts,
        // The data volume is a small tmpfs: "critical" means nearly nothing left, and it fires quickly.
        // "low" at the default 512 MB would fire for the whole run on a 512 MB volume and never clear.
        rules: [
          { id: 'disk-space-low', metric: 'disk_free_bytes', op: '<', threshold: 64 * 1024 * 1024, forSeconds: 1, severity: 'warning', summary: 'the data volume is getting full', remedy: 'free space on the disk that holds the Owlet data folder' },
          { id: 'disk-space-critical', metric: 'disk_free_bytes', op: '<', threshold: 16 * 1024 * 1024, forSeconds: 1, severity: 'critical', summary: 'the data volume is nearly full', remedy: 'free space on the disk that holds the Owlet data folder' },
        ],
      },
    },
    security: { ...d.security, http: { ...d.security.http, rateLimitPerMinute: 100_000 } },
  };
}

/**
 * The index equals the disk, judged from outside as a user would: every file's unique token finds
 * that file at its current path (lost otherwise), and no removed file's token finds anything
 * (phantom). Through the API, so the service's own view is what is judged.
 */
async function compareWithDisk(target: Target, expected: Map<string, string>, deleted: Map<string, string>): Promise<ChaosSummary['documents']> {
  const lost: string[] = [];
  const phantom: string[] = [];
  const want = [...expected].filter(([, p]) => fs.existsSync(p));
  // A service that stopped answering loses everything; do not wait out every token to say so.
  let unanswered = 0;
  const find = async (tok: string): Promise<string[] | null> => {
    if (unanswered >= 10) return null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await request(target, `/api/v1/search?q=${encodeURIComponent(tok)}&limit=5`, {}, 10_000);
      if (r.ok) {
        unanswered = 0;
        return ((r.body as { hits?: { path: string }[] }).hits ?? []).map((h) => h.path);
      }
      await sleep(1000);
    }
    unanswered++;
    return null;
  };
  for (const [tok, p] of want) {
    const paths = await find(tok);
    if (!paths || !paths.includes(p)) lost.push(p);
  }
  for (const [tok, p] of deleted) {
    if (expected.has(tok)) continue;
    const paths = await find(tok);
    if (paths && paths.length > 0) phantom.push(p);
  }
  return { expected: want.length, lost: lost.length, phantom: phantom.length, lostExamples: lost.slice(0, 10), phantomExamples: phantom.slice(0, 10), settledMs: 0 };
}

/** Doctor findings that injected kills cause by design (the restart count of the last hour). */
const EXPECTED_AFTER_CHAOS = ['restarts'];

function doctor(dataDir: string): ChaosSummary['doctor'] {
  const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/owlet.js');
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json', '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OWLET_ALLOW_ROOT: '1' } });
  try {
    const out = JSON.parse(r.stdout) as { checks?: { id: string; status: string; message: string }[]; findings?: { id: string; status: string; message: string }[] };
    const findings = out.checks ?? out.findings ?? [];
    // The restarts the run itself caused are reported by doctor as they should be; they are the
    // one finding a chaos run expects, and are listed apart.
    const failed = findings.filter((f) => f.status === 'failed' && !EXPECTED_AFTER_CHAOS.includes(f.id)).map((f) => `${f.id}: ${f.message}`);
    const degraded = findings.filter((f) => f.status === 'degraded').map((f) => `${f.id}: ${f.message}`);
    return { clean: failed.length === 0, failed, degraded };
  } catch {
    return { clean: false, failed: [`doctor printed no JSON (exit ${r.status}): ${(r.stderr || r.stdout).slice(0, 300)}`], degraded: [] };
  }
}

export async function runChaos(o: ChaosOptions): Promise<ChaosSummary> {
  const log = o.log ?? (() => {});
  const rng = seeded(o.seed);
  const work = o.workDir ?? fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'owlet-chaos-')));
  const root = path.join(work, 'docs');
  const removable = path.join(work, 'usb-drive');
  const dataDir = path.join(work, 'data');
  const tmpfs = mountTmpfs(dataDir, 512);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);
  const extractTimeoutMs = 4000;
  log(`chaos: seed ${o.seed}, ${o.minutes} min, a fault every ~${o.faultEveryMs} ms; work dir ${work}${tmpfs ? ' (data on a private tmpfs)' : ''}`);
  const corpus = writeChaosCorpus(root, o.files, rng, { hostile: o.hostile });
  fs.mkdirSync(removable, { recursive: true });
  for (let i = 0; i < 50; i++) corpus.good.set(tokenFor(`usb${i}`), writeDocument(removable, `usb${i}`, rng, 6));
  const roots = [root, removable, ...(o.corpus ? [path.resolve(o.corpus)] : [])];
  saveConfig(dataDir, chaosConfig(roots, extractTimeoutMs));

  const ft = libfaketime();
  const clockFile = ft ? path.join(work, 'clock-offset') : null;
  if (clockFile) fs.writeFileSync(clockFile, '+0\n');
  const env: NodeJS.ProcessEnv = ft && clockFile ? { LD_PRELOAD: ft, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' } : {};
  const target = startTarget({ dataDir, env });
  const summaryFaults: FaultRecord[] = [];
  const peak = { rss: 0, fds: 0, processes: 0 };
  const sampler = setInterval(() => {
    const s = target.sample();
    peak.rss = Math.max(peak.rss, s.rss);
    peak.fds = Math.max(peak.fds, s.fds);
    peak.processes = Math.max(peak.processes, s.processes);
  }, 1000);
  type SeenAlert = { rule: string; firedAt: number | null; resolvedAt: number | null; state: string };
  const alertSeen = new Map<string, SeenAlert>();
  /** The rules firing at the last poll that got an answer: what "still firing" is judged on. */
  let firingNow: string[] = [];
  let lastView = new Set<string>();
  // Polls can overlap (every 2 s, answers may take longer): an answer older than one applied is dropped.
  let pollsSent = 0;
  let pollApplied = 0;
  const pollAlerts = async () => {
    const mine = ++pollsSent;
    const r = await request(target, '/api/v1/alerts?history=200');
    if (mine < pollApplied) return;
    const b = r.body as { active?: (SeenAlert & { id: string })[]; history?: (SeenAlert & { id: string })[] } | null;
    if (r.ok && b?.active) pollApplied = mine;
    if (r.ok && b?.active) {
      firingNow = b.active.filter((a) => a.state === 'firing').map((a) => a.rule);
      lastView = new Set([...b.active, ...(b.history ?? [])].map((a) => a.id));
    }
    for (const a of [...(b?.active ?? []), ...(b?.history ?? [])]) alertSeen.set(a.id, { rule: a.rule, firedAt: a.firedAt, resolvedAt: a.resolvedAt ?? null, state: a.state });
  };
  const alertTimer = setInterval(() => void pollAlerts(), 2000);

  try {
    await target.proc.waitFor(/serving on (http:\S+)/, 60_000);
    // The first full index, then one verified backup: recovery from damage restores it.
    const firstSettle = await settle(target, 15 * 60_000);
    log(`chaos: initial index settled after ${firstSettle} ms`);
    const b = await request(target, '/api/v1/backups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 120_000);
    log(`chaos: baseline backup ${b.ok ? 'made' : `FAILED (${b.status})`}`);

    const deleted = new Map<string, string>();
    const prober = new AvailabilityProber(target, tokenFor(0));
    const fresh = new FreshnessProber(target, path.join(root, 'fresh'));
    prober.start();
    fresh.start();
    const ctx: FaultContext = {
      target,
      rng,
      root,
      removableRoot: removable,
      fillableDir: tmpfs ? dataDir : null,
      clockFile,
      expected: corpus.good,
      deleted,
      burstFiles: o.burstFiles,
      extractTimeoutMs,
      sleep,
    };
    const kinds = o.kinds ?? FAULT_KINDS;
    const endAt = Date.now() + o.minutes * 60_000;
    // Drawn from a deck the seed shuffles, dealt anew when empty: every kind once per round, so a
    // short run covers the kinds evenly (independent draws left some out).
    const deck: FaultKind[] = [];
    const draw = (): FaultKind => {
      if (deck.length === 0) {
        deck.push(...kinds);
        for (let k = deck.length - 1; k > 0; k--) {
          const j = rng.int(0, k);
          [deck[k], deck[j]] = [deck[j]!, deck[k]!];
        }
      }
      return deck.shift()!;
    };
    while (Date.now() < endAt && summaryFaults.length < (o.maxFaults ?? Infinity)) {
      const kind = draw();
      const at = Date.now();
      log(`chaos: ${new Date(at).toISOString()} ${kind}`);
      const out = await FAULTS[kind](ctx);
      summaryFaults.push({ kind, at: new Date(at).toISOString(), note: out.note, ...(out.skipped ? { skipped: out.skipped } : {}), recoveryMs: null, failedProbes: 0, alerts: [], alertCleared: null });
      (summaryFaults[summaryFaults.length - 1] as FaultRecord & { _at: number; _end: number })._at = at;
      (summaryFaults[summaryFaults.length - 1] as FaultRecord & { _at: number; _end: number })._end = out.endedAt;
      const gap = Math.max(500, Math.round(o.faultEveryMs * (0.5 + rng.next())) - (Date.now() - at));
      await sleep(Math.min(gap, Math.max(0, endAt - Date.now())));
    }
    log('chaos: faults over; letting Owlet settle');
    // The probers run on through the settling, so the last fault's recovery is measured too.
    await fresh.stop();
    for (const [tok, p] of fresh.written) corpus.good.set(tok, p);
    const settledMs = await settle(target, o.settleMs ?? 3 * 60_000);
    await prober.stop();
    await pollAlerts();

    // Attribute recovery and alerts to each fault.
    const recs = summaryFaults as (FaultRecord & { _at: number; _end: number })[];
    const outages = attributeOutages(recs.map((r) => ({ at: r._at, end: r._end, skipped: Boolean(r.skipped) })), prober);
    recs.forEach((r, k) => {
      const o = outages[k];
      if (!o) return;
      r.recoveryMs = o.recoveryMs;
      r.failedProbes = o.failedProbes;
      // Fired within a minute of the fault, or already firing when it began (the same condition
      // again does not fire a second alert while the first is up).
      const up = (a: SeenAlert) => a.firedAt !== null && ((a.firedAt >= r._at && a.firedAt < r._at + 60_000) || (a.firedAt < r._at && (a.resolvedAt === null || a.resolvedAt > r._at)));
      r.alerts = [...new Set([...alertSeen.values()].filter(up).map((a) => a.rule))];
      const rules = EXPECTED_ALERT[r.kind] ?? [];
      const mine = [...alertSeen].filter(([, a]) => rules.includes(a.rule) && up(a));
      const over = ([id, a]: [string, SeenAlert]) =>
        STANDING_BY_DESIGN[r.kind]?.includes(a.rule) || a.state === 'resolved' || (!lastView.has(id) && !firingNow.includes(a.rule));
      r.alertCleared = mine.length ? mine.every(over) : null;
    });
    const documents = { ...(await compareWithDisk(target, corpus.good, deleted)), settledMs };
    const doc = doctor(dataDir);

    const total = prober.probes.length;
    const ok = prober.probes.filter((p) => p.ok).length;
    const errors: Record<string, number> = {};
    for (const p of prober.probes) if (!p.ok) errors[p.error ?? 'unknown'] = (errors[p.error ?? 'unknown'] ?? 0) + 1;
    const recovery: ChaosSummary['recovery'] = {};
    for (const kind of FAULT_KINDS) {
      const of = recs.filter((r) => r.kind === kind);
      if (of.length === 0) continue;
      const done = of.filter((r) => !r.skipped && r.recoveryMs !== null).map((r) => r.recoveryMs!).sort((a, b) => a - b);
      recovery[kind] = {
        count: of.length,
        skipped: of.filter((r) => r.skipped).length,
        maxMs: done.length ? done[done.length - 1]! : null,
        p95Ms: done.length ? percentile(done, 95) : null,
        unrecovered: of.filter((r) => !r.skipped && r.recoveryMs === null).length,
        failedProbes: of.reduce((n, r) => n + r.failedProbes, 0),
      };
    }
    const fr = fresh.samples.filter((s) => s.ms !== null).map((s) => s.ms!).sort((a, b) => a - b);
    const expectedAlerts: ChaosSummary['alerts']['expected'] = {};
    for (const [kind, rules] of Object.entries(EXPECTED_ALERT)) {
      const of = recs.filter((r) => r.kind === kind && !r.skipped);
      if (of.length) expectedAlerts[kind] = { fired: of.filter((r) => r.alerts.some((a) => rules.includes(a))).length, cleared: of.filter((r) => r.alertCleared === true).length, of: of.length };
    }
    const seen: Record<string, number> = {};
    for (const a of alertSeen.values()) if (a.firedAt !== null) seen[a.rule] = (seen[a.rule] ?? 0) + 1;
    const perKind: Record<string, number> = {};
    for (const r of recs) if (!r.skipped) perKind[r.kind] = (perKind[r.kind] ?? 0) + 1 / REAL_WORLD_PER_DAY[r.kind];
    // Days of real use that would bring as many faults as were injected, at the assumed per-desktop
    // rates summed over the kinds (the mix differs: the per-kind figures show it).
    const injected = recs.filter((r) => !r.skipped).length;
    const ratePerDay = [...new Set(recs.filter((r) => !r.skipped).map((r) => r.kind))].reduce((n, k) => n + REAL_WORLD_PER_DAY[k], 0);
    const realWorldDays = ratePerDay ? Math.round((injected / ratePerDay) * 10) / 10 : 0;
    const availability = total ? ok / total : 0;
    const summary: ChaosSummary = {
      format: 'owlet-chaos/1',
      startedAt: new Date(endAt - o.minutes * 60_000).toISOString(),
      seed: o.seed,
      minutes: o.minutes,
      files: o.files,
      faultEveryMs: o.faultEveryMs,
      probes: { total, ok, failed: total - ok, availability, errors },
      recovery,
      freshness: { samples: fresh.samples.length, p50Ms: fr.length ? percentile(fr, 50) : null, p95Ms: fr.length ? percentile(fr, 95) : null, maxMs: fr.length ? fr[fr.length - 1]! : null, neverSearchable: fresh.samples.filter((s) => s.ms === null).length },
      documents,
      alerts: { expected: expectedAlerts, seen, stillFiring: [...new Set(firingNow)], vanished: [...alertSeen].filter(([id, a]) => a.state === 'firing' && !lastView.has(id)).map(([, a]) => a.rule) },
      doctor: doc,
      resources: { peakRssMb: Math.round(peak.rss / 1048576), peakFds: peak.fds, peakProcesses: peak.processes },
      equivalence: {
        realWorldDays,
        perKind: Object.fromEntries(Object.entries(perKind).map(([k, v]) => [k, Math.round(v)])),
        assumption: 'faults injected divided by the summed per-desktop daily rates of the kinds injected (bench/chaos/faults.ts REAL_WORLD_PER_DAY); perKind: days of real use each kind\'s count stands for',
      },
      targets: {
        availability: availability >= 0.999,
        recoveryUnder30s: Object.values(recovery).every((r) => r.unrecovered === 0 && (r.maxMs ?? 0) < 30_000),
        noDocumentsLost: documents.lost === 0 && documents.phantom === 0,
      },
      faults: recs.map(({ _at, _end, ...r }) => r),
    };
    return summary;
  } finally {
    clearInterval(sampler);
    clearInterval(alertTimer);
    await target.stop();
    // The data folder's tmpfs goes with the run: a kept run keeps its logs for the post-mortem.
    if (o.keep && tmpfs) fs.cpSync(path.join(dataDir, 'logs'), path.join(work, 'data-logs'), { recursive: true });
    if (tmpfs) unmount(dataDir);
    if (!o.keep && !o.workDir) fs.rmSync(work, { recursive: true, force: true });
  }
}
