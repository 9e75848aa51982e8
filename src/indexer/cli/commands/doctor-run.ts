import { resolveDataDir } from '../../config/paths.js';
import { runDoctor, type DoctorDeps } from '../../health/doctor.js';
import { formatDoctor, type DoctorIo } from './doctor-format.js';

export async function doctor(o: { dataDir?: string; fix?: boolean; json?: boolean }, io: DoctorIo, setCode: (c: number) => void, deps: DoctorDeps): Promise<void> {
  const report = await runDoctor(resolveDataDir(o.dataDir), { fix: Boolean(o.fix) }, deps);
  if (o.json) io.out(JSON.stringify(report));
  else for (const l of formatDoctor(report, Boolean(io.stdoutIsTTY))) io.out(l);
  setCode(report.status === 'failed' ? 1 : 0);
}
