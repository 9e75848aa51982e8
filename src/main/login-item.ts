import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writePrivateFile } from '../indexer/security/files.js';

/** The slice of Electron's `app` for login items (macOS and Windows; Linux uses an autostart file). */
export interface LoginItemApp {
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
}

/** The argument a launch at login carries: start in the tray, no window. */
export const HIDDEN_ARG = '--hidden';

const Preferences = z.object({ startAtLogin: z.boolean().default(true) }).strict();
type Preferences = z.infer<typeof Preferences>;

export interface LoginItemOptions {
  app: LoginItemApp;
  /** `<userData>/preferences.json`: the app's own choices (not the indexer's config). */
  prefsFile: string;
  platform?: NodeJS.Platform;
  /** Linux: `~/.config/autostart` (XDG) and what to run (the AppImage, or the executable). */
  linux?: { autostartDir: string; exec: string };
  log: { warn(msg: string, f?: Record<string, unknown>): void };
}

/** Quotes one argument for a desktop entry's Exec key (freedesktop Desktop Entry spec). */
export function desktopExecArg(s: string): string {
  return `"${s.replace(/(["`$\\])/g, '\\$1')}"`;
}

export function autostartEntry(exec: string): string {
  return ['[Desktop Entry]', 'Type=Application', 'Name=Owlet', 'Comment=Local document search', `Exec=${desktopExecArg(exec)} ${HIDDEN_ARG}`, 'Terminal=false', 'X-GNOME-Autostart-enabled=true', ''].join('\n');
}

/**
 * "Start at login": on by default, switched from the tray menu, the choice kept in userData so an
 * update or a restart keeps it. Applied at every start, so the OS entry follows the app's path
 * after an update moved it.
 */
export class LoginItem {
  private prefs: Preferences;

  constructor(private readonly o: LoginItemOptions) {
    this.prefs = this.read();
  }

  get enabled(): boolean {
    return this.prefs.startAtLogin;
  }

  private read(): Preferences {
    let raw: string;
    try {
      raw = fs.readFileSync(this.o.prefsFile, 'utf8');
    } catch {
      return Preferences.parse({});
    }
    try {
      return Preferences.parse(JSON.parse(raw));
    } catch (e) {
      // A damaged file must not switch the default off silently: keep the default, say why.
      this.o.log.warn('app preferences are damaged; using the defaults', { file: this.o.prefsFile, reason: e instanceof Error ? e.message.slice(0, 200) : String(e) });
      return Preferences.parse({});
    }
  }

  /** Makes the OS entry match the choice. */
  apply(): void {
    const on = this.prefs.startAtLogin;
    if ((this.o.platform ?? process.platform) === 'linux') {
      if (!this.o.linux) return;
      const file = path.join(this.o.linux.autostartDir, 'owlet.desktop');
      if (on) {
        fs.mkdirSync(this.o.linux.autostartDir, { recursive: true });
        fs.writeFileSync(file, autostartEntry(this.o.linux.exec), { mode: 0o644 });
      } else {
        fs.rmSync(file, { force: true });
      }
      return;
    }
    this.o.app.setLoginItemSettings({ openAtLogin: on, args: [HIDDEN_ARG] });
  }

  /** The menu's checkbox. */
  set(on: boolean): void {
    this.prefs = { ...this.prefs, startAtLogin: on };
    fs.mkdirSync(path.dirname(this.o.prefsFile), { recursive: true });
    writePrivateFile(this.o.prefsFile, JSON.stringify(this.prefs, null, 2) + '\n');
    this.apply();
  }
}
