import fs from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, describeNewer, loadConfigFile } from '../../../config/load.js';
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
        // Not a fault: the settings come back into force when that version runs again.
        ...(newer
          ? [{ id: 'config-newer', name: 'Settings from a newer Owlet', status: 'ok' as const, message: `set by Owlet ${newer.writtenBy}, ignored by this one (${VERSION}) and kept in config.json: ${describeNewer(newer)}` }]
          : []),
      ];
    } catch (e) {
      return [{ id: 'config', name: 'Configuration', status: 'failed', message: (e as Error).message, remedy: `fix the named setting in ${path.join(dataDir, CONFIG_FILE)} (or delete the file to return to defaults)` }];
    }
  },
};
