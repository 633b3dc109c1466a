#!/usr/bin/env -S node --
// The `--` stops Node 20 from reading qbank's own `--env-file` flag as its own (nodejs/node#54232).
import { main } from '../dist/src/main.js';

process.exitCode = await main(process.argv.slice(2));
