// `node --import ./test/helpers/module-trace-register.mjs …` installs module-trace.mjs.
import { register } from 'node:module';

register('./module-trace.mjs', import.meta.url);
