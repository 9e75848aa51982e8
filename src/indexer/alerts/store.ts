import type { Db } from '../store/db.js';
import type { AlertStore } from './engine.js';
import type { Alert } from './types.js';

/** Alerts in metrics.db: one row per alert, the whole alert as JSON beside the columns queried. */
export class SqliteAlertStore implements AlertStore {
  private readonly q;
  constructor(db: Db) {
    this.q = {
      upsert: db.prepare(
        `INSERT INTO alerts (id, rule, state, severity, data, updated_at) VALUES (@id, @rule, @state, @severity, @data, @updatedAt)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, severity = excluded.severity, data = excluded.data, updated_at = excluded.updated_at`,
      ),
      active: db.prepare<[], { data: string }>(`SELECT data FROM alerts WHERE state <> 'resolved'`),
      history: db.prepare<[number], { data: string }>(`SELECT data FROM alerts WHERE state = 'resolved' ORDER BY updated_at DESC LIMIT ?`),
      remove: db.prepare('DELETE FROM alerts WHERE id = ?'),
      prune: db.prepare(`DELETE FROM alerts WHERE state = 'resolved' AND updated_at < ?`),
    };
  }

  save(a: Alert): void {
    this.q.upsert.run({ id: a.id, rule: a.rule, state: a.state, severity: a.severity, data: JSON.stringify(a), updatedAt: a.resolvedAt ?? a.lastNotifiedAt ?? a.startedAt });
  }

  loadActive(): Alert[] {
    return this.q.active.all().map((r) => JSON.parse(r.data) as Alert);
  }

  history(limit: number): Alert[] {
    return this.q.history.all(limit).map((r) => JSON.parse(r.data) as Alert);
  }

  remove(id: string): void {
    this.q.remove.run(id);
  }

  prune(before: number): void {
    this.q.prune.run(before);
  }
}
