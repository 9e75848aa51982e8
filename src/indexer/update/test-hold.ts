import fs from 'node:fs';

export type UpdateStepName = 'unpacking' | 'downloaded' | 'unpacked' | 'backed-up' | 'started' | 'switched' | 'gated';

/**
 * The kill-at-each-step tests (test/indexer/update/kill.e2e.test.ts) need a real `owlet run` to
 * stop at a known step so the SIGKILL lands there and nowhere else. Inert unless the test sets
 * OWLET_TEST_UPDATE_HOLD=<step> and OWLET_TEST_UPDATE_HOLD_FILE=<path>: then, at that step, the
 * update writes the step's name to the file and waits (at most ten minutes) for the kill.
 */
export function holdAtStepFromEnv(env: NodeJS.ProcessEnv = process.env): ((step: UpdateStepName) => Promise<void>) | undefined {
  const at = env.OWLET_TEST_UPDATE_HOLD;
  const file = env.OWLET_TEST_UPDATE_HOLD_FILE;
  if (!at || !file) return undefined;
  return async (step) => {
    if (step !== at) return;
    fs.writeFileSync(file, step);
    await new Promise((r) => setTimeout(r, 600_000));
  };
}
