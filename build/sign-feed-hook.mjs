// electron-builder `afterAllArtifactBuild` hook: adds `expires` to the latest*.yml files it wrote
// and signs them with the release key, so the tray app's feed is signed like the headless one.
// The key comes from OWLET_RELEASE_KEY (path to the PKCS#8 Ed25519 PEM); packaging without it fails
// rather than publishing an unsigned feed. Runs after `npm run build` (it imports dist/).
import fs from 'node:fs';
import { privateKeyFromPem } from '../dist/indexer/update/keys.js';
import { signElectronBuilderManifests } from '../dist/indexer/update/release/sign.js';

export default async function signFeed(buildResult) {
  const keyFile = process.env.OWLET_RELEASE_KEY;
  if (!keyFile) throw new Error('OWLET_RELEASE_KEY is not set: the update feed would be unsigned (see README, "Cutting a release")');
  const key = privateKeyFromPem(fs.readFileSync(keyFile, 'utf8'));
  const days = Number(process.env.OWLET_RELEASE_EXPIRES_DAYS ?? 30);
  return signElectronBuilderManifests(buildResult.outDir, key, { now: new Date(), expiresDays: days });
}
