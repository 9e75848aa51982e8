import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { errnoCode } from '../../shared/errors.js';
import type { UpdateConfig } from '../config/update-settings.js';

/**
 * The machine-wide policy file an administrator installs. It outranks the user's configuration:
 * it can turn updates off, pin a version (an exact version or a range such as "1.4.x"), and fix
 * the channel and the feed. A policy file that exists but cannot be read or parsed turns updates
 * off (fail closed) and says why: an administrator's "no" must not become a "yes" through a typo.
 */
export const PolicySchema = z
  .object({
    updatesDisabled: z.boolean().optional(),
    pinnedVersion: z
      .string()
      .refine((v) => semver.validRange(v) !== null, { message: 'pinnedVersion must be a version or a range such as 1.4.x' })
      .optional(),
    channel: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/).optional(),
    feedUrl: z.string().refine((u) => /^https?:\/\/[^\s]+$/i.test(u), { message: 'feedUrl must be an http(s) URL' }).optional(),
    autoApply: z.boolean().optional(),
  })
  .strict();

export type Policy = z.infer<typeof PolicySchema>;

export interface PolicyInForce {
  file: string;
  /** 'absent': no policy file; 'ok': read and applied; 'invalid': unreadable, updates are off. */
  status: 'absent' | 'ok' | 'invalid';
  policy: Policy;
  error?: string;
}

/**
 * Where the machine policy lives. `OWLET_POLICY_FILE` moves it (packagers who install elsewhere,
 * and the end-to-end tests); it is no way around an administrator, who controls the service's
 * environment as much as this file, and `owlet doctor` names the file in force.
 */
export function defaultPolicyFile(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (env.OWLET_POLICY_FILE) return path.resolve(env.OWLET_POLICY_FILE);
  switch (platform) {
    case 'win32':
      return path.join(env.ProgramData ?? 'C:\\ProgramData', 'Owlet', 'policy.json');
    case 'darwin':
      return '/Library/Application Support/Owlet/policy.json';
    default:
      return '/etc/owlet/policy.json';
  }
}

export function readPolicy(file: string): PolicyInForce {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { file, status: 'absent', policy: {} };
    return { file, status: 'invalid', policy: { updatesDisabled: true }, error: `cannot read ${file}: ${(e as Error).message}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { file, status: 'invalid', policy: { updatesDisabled: true }, error: `${file} is not valid JSON: ${(e as Error).message}` };
  }
  const r = PolicySchema.safeParse(raw);
  if (!r.success) {
    const what = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
    return { file, status: 'invalid', policy: { updatesDisabled: true }, error: `${file}: ${what}` };
  }
  return { file, status: 'ok', policy: r.data };
}

/** The settings that apply: the user's config with every field the policy sets replaced. */
export interface EffectiveUpdateSettings extends UpdateConfig {
  disabled: boolean;
  /** Why updates are disabled, when they are. */
  disabledBy?: string;
  pinnedVersion?: string;
}

export function effectiveSettings(config: UpdateConfig, p: PolicyInForce): EffectiveUpdateSettings {
  const pol = p.policy;
  const out: EffectiveUpdateSettings = {
    ...config,
    feedUrl: pol.feedUrl ?? config.feedUrl,
    channel: pol.channel ?? config.channel,
    autoApply: pol.autoApply ?? config.autoApply,
    disabled: false,
  };
  if (pol.pinnedVersion !== undefined) out.pinnedVersion = pol.pinnedVersion;
  if (pol.updatesDisabled) {
    out.disabled = true;
    out.disabledBy = p.status === 'invalid' ? `policy file unusable (${p.error ?? 'invalid'})` : `policy ${p.file}`;
  } else if (out.feedUrl === null) {
    out.disabled = true;
    out.disabledBy = 'no feed configured (updates.feedUrl)';
  }
  return out;
}

/** Whether the policy allows installing `version`; the reason when it does not. */
export function policyForbids(s: EffectiveUpdateSettings, version: string): string | null {
  if (s.disabled) return `updates are disabled: ${s.disabledBy ?? 'policy'}`;
  if (s.pinnedVersion !== undefined && !semver.satisfies(version, s.pinnedVersion)) return `the policy pins the version to ${s.pinnedVersion}`;
  return null;
}

/**
 * The config.json keys the policy fixes, each with the reason shown beside it in the dashboard
 * (where the setting is displayed as locked). With updates disabled by policy, every update setting is.
 */
export function policyLocks(p: PolicyInForce): Record<string, string> {
  if (p.status === 'absent') return {};
  const by = p.status === 'invalid' ? `the machine policy (${p.file} is unusable, so updates are off)` : `the machine policy (${p.file})`;
  const out: Record<string, string> = {};
  const pol = p.policy;
  if (pol.updatesDisabled) for (const k of ['updates.channel', 'updates.autoApply', 'updates.checkHours', 'updates.feedUrl']) out[k] = by;
  if (pol.channel !== undefined) out['updates.channel'] = by;
  if (pol.autoApply !== undefined) out['updates.autoApply'] = by;
  if (pol.feedUrl !== undefined) out['updates.feedUrl'] = by;
  return out;
}
