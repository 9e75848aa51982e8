import path from 'node:path';
import { owletError } from '../shared/errors.js';

/** The folder name of the app's own Electron profile under the OS's per-user app-data folder. */
export const APP_PROFILE_NAME = 'Owlet App';

/** True when `inner` is `outer` or lies inside it. */
export function isWithin(inner: string, outer: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Electron's `userData` folder (Chromium's profile: cookies, caches, local storage) for the app.
 * Electron's default is `<appData>/<app name>`, which on macOS is exactly Owlet's data folder
 * (`~/Library/Application Support/Owlet`): Chromium's files would land beside index.db, be backed
 * up with it and widen what the data folder's checks must allow. So the app gets its own folder,
 * and one that neither holds nor sits inside the data folder, whatever OWLET_DATA_DIR says.
 */
export function appUserDataDir(appData: string, dataDir: string): string {
  const dir = path.join(appData, APP_PROFILE_NAME);
  if (isWithin(dir, dataDir) || isWithin(dataDir, dir)) {
    throw owletError('OWL_ERR_DATADIR_UNUSABLE', {
      dir: dataDir,
      reason: `it overlaps the app's own profile folder ${dir}; choose a data folder outside ${appData} or inside a folder of its own`,
    });
  }
  return dir;
}

/** The slice of Electron's `app` this needs. */
export interface AppPathsApi {
  getPath(name: 'appData' | 'userData'): string;
  setPath(name: 'userData', value: string): void;
}

/**
 * Moves `userData` off the data folder. Must run before the app's `ready` event (and before
 * `requestSingleInstanceLock`, whose lock file lives in userData): Chromium opens its profile then.
 */
export function configureAppPaths(app: AppPathsApi, dataDir: string): string {
  const dir = appUserDataDir(app.getPath('appData'), dataDir);
  app.setPath('userData', dir);
  return dir;
}
