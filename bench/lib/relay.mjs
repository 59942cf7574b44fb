#!/usr/bin/env node
// The physical floor of one extra hop: a process that pipes its stdin to a child's
// stdin and the child's stdout to its stdout, byte for byte, understanding nothing.
//   node relay.mjs <command> [args…]
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on('exit', (code) => process.exit(code ?? 0));
process.stdin.on('end', () => child.stdin.end());
