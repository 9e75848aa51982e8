import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Whether the computer runs on battery, where the OS tells us: Linux power_supply in sysfs, macOS
 * `pmset -g batt`. Anything else (desktops, Windows without a probe, errors) answers false, so
 * indexing is never paused on a guess.
 */
export interface PowerProbe {
  onBattery(): Promise<boolean>;
}

export function linuxPowerProbe(sysfs = '/sys/class/power_supply'): PowerProbe {
  return {
    async onBattery() {
      let names: string[];
      try {
        names = await fs.promises.readdir(sysfs);
      } catch {
        return false;
      }
      let mains = false;
      let mainsOnline = false;
      let battery = false;
      for (const n of names) {
        const read = (f: string) => fs.promises.readFile(path.join(sysfs, n, f), 'utf8').then((s) => s.trim(), () => '');
        const type = await read('type');
        if (type === 'Mains' || type === 'USB') {
          mains = true;
          if ((await read('online')) === '1') mainsOnline = true;
        } else if (type === 'Battery') {
          battery = true;
        }
      }
      return battery && mains && !mainsOnline;
    },
  };
}

export function macPowerProbe(): PowerProbe {
  return {
    onBattery: () =>
      new Promise((resolve) => {
        execFile('pmset', ['-g', 'batt'], { timeout: 5000 }, (err, stdout) => resolve(!err && /Battery Power/.test(stdout)));
      }),
  };
}

export function defaultPowerProbe(platform: NodeJS.Platform = process.platform): PowerProbe {
  if (platform === 'linux') return linuxPowerProbe();
  if (platform === 'darwin') return macPowerProbe();
  return { onBattery: async () => false };
}
