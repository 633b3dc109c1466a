#!/usr/bin/env -S node --
// The `--` stops Node 20 from reading qbank's own `--env-file` flag as its own (nodejs/node#54232):
// run this file itself (or the `qbank` npm link makes), or `node -- bin/qbank.js`, not `node bin/qbank.js`.
import { runAsProcess } from '../dist/src/main.js';

await runAsProcess(process.argv.slice(2));
