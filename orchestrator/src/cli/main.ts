#!/usr/bin/env node
// Entry point of the `fleet` CLI (bin, Makefile, npm run fleet): arguments, environment and output streams
// are taken from the process here and passed down.
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv, {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
