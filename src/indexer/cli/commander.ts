import { createRequire } from 'node:module';
import type * as Commander from 'commander';

/*
 * commander is a CommonJS package: loaded through `import`, Node first scans it for its exports
 * and wraps it as an ES module, which doubled its share of the CLI's start-up (about 27 ms
 * against 14 ms with require, measured for issue #14). Every CLI module takes it from here.
 */
const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const Command = commander.Command;
export type Command = Commander.Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = Commander.CommanderError;
export const Option = commander.Option;
export type Option = Commander.Option;
