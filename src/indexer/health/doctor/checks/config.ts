import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, describeNewer, describeUnreadable, loadConfigFile } from '../../../config/load.js';
import { VERSION } from '../../../version.js';
import { effectiveRules } from '../../../config/monitoring-settings.js';
import type { DoctorCheck } from '../types.js';

/** config.json loads and validates (or is absent: defaults); later checks need it. */
export const configCheck: DoctorCheck = {
  id: 'config',
  inspect(ctx) {
    const { dataDir } = ctx;
    try {
      const { config, newer } = loadConfigFile(dataDir);
      ctx.config = config;
      const m = config.monitoring;
      return [
        {
          id: 'config',
          name: 'Configuration',
          status: 'ok',
          message: `${fs.existsSync(path.join(dataDir, CONFIG_FILE)) ? 'valid' : 'defaults (no config.json)'}: ${config.roots.length} root(s), monitoring ${m.enabled ? 'on' : 'off'}, ${effectiveRules(m.alerts).length} alert rules`,
        },
        // Not a fault: the settings come back into force when that version runs again. Values
        // this one cannot read are replaced while it runs, so it does not run as configured.
        ...(newer
          ? [
              {
                id: 'config-newer',
                name: 'Settings from a newer Owlet',
                status: newer.unreadable.length ? ('degraded' as const) : ('ok' as const),
                message: [
                  ...(newer.keys.length ? [`set by Owlet ${newer.writtenBy}, ignored by this one (${VERSION}) and kept in config.json: ${describeNewer(newer)}`] : []),
                  ...(newer.unreadable.length ? [`values set by Owlet ${newer.writtenBy} that this one (${VERSION}) cannot read, kept in config.json as written: ${describeUnreadable(newer)}`] : []),
                ].join('; '),
                ...(newer.unreadable.length ? { remedy: `nothing to do if Owlet ${newer.writtenBy} returns with the next update; otherwise choose a value this version offers for each named setting (dashboard Settings or config.json)` } : {}),
              },
            ]
          : []),
      ];
    } catch (e) {
      return [{ id: 'config', name: 'Configuration', status: 'failed', message: (e as Error).message, remedy: `fix the named setting in ${path.join(dataDir, CONFIG_FILE)} (or delete the file to return to defaults)` }];
    }
  },
};
