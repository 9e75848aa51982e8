import { Option, type Command } from '../commander.js';
import type { DoctorDeps } from '../../health/doctor.js';
import type { DoctorIo } from './doctor-format.js';

export { formatDoctor, type DoctorIo } from './doctor-format.js';

/** `owlet doctor [--json] [--fix]`: exit 0 when nothing failed (ok or degraded), 1 otherwise. */
export function registerDoctor(program: Command, io: DoctorIo, setCode: (c: number) => void, deps: DoctorDeps = {}): void {
  program
    .command('doctor')
    .description('check the installation and the index, say what to do about each problem; --fix applies the safe remedies')
    .addOption(new Option('--data-dir <dir>', 'data directory (default: $OWLET_DATA_DIR or the OS per-user data folder)'))
    .option('--fix', 'apply the safe automatic remedies (permissions, stale service file, full-text rebuild, rescans) and check again')
    .option('--json', 'print the report as JSON')
    // Loaded when run: the checks open the index, the keys and metrics.db.
    .action(async (o: { dataDir?: string; fix?: boolean; json?: boolean }) => (await import('./doctor-run.js')).doctor(o, io, setCode, deps));
}
