import type { Config } from '../../../config/schema.js';
import { defaultPolicyFile, effectiveSettings, readPolicy } from '../../../update/policy.js';
import { DEFAULT_UPDATE_CONFIG } from '../../../config/update-settings.js';
import type { DoctorCheck, DoctorFinding } from '../types.js';

/** The update policy in force, as `owlet doctor` reports it (#12: "owlet doctor reports the policy in force"). */
export function updatesFinding(config: Config | null, policyFile: string): DoctorFinding {
  const base = { id: 'updates', name: 'Updates' };
  const p = readPolicy(policyFile);
  if (p.status === 'invalid') {
    return { ...base, status: 'degraded', message: `machine policy ${policyFile} is unusable, so updates are off: ${p.error ?? 'invalid'}`, remedy: `fix or remove ${policyFile} (an administrator's file; see the operations guide)` };
  }
  const s = effectiveSettings(config?.updates ?? DEFAULT_UPDATE_CONFIG, p);
  const fixed = Object.keys(p.policy);
  const policy = p.status === 'absent' ? `no machine policy (${policyFile})` : `machine policy ${policyFile} sets ${fixed.length ? fixed.join(', ') : 'nothing'}`;
  const what = s.disabled
    ? `updates off: ${s.disabledBy ?? 'policy'}`
    : `channel ${s.channel} from ${s.feedUrl}, ${s.autoApply ? 'installed automatically' : 'installed on request'}${s.pinnedVersion ? `, pinned to ${s.pinnedVersion}` : ''}`;
  return { ...base, status: 'ok', message: `${policy}; ${what}` };
}

/** The machine policy in force (it outranks config.json) and what it leaves of updates. */
export const updatesCheck: DoctorCheck = {
  id: 'updates',
  inspect: (ctx) => [updatesFinding(ctx.config, ctx.deps.policyFile ?? defaultPolicyFile())],
};
