#!/usr/bin/env node
// The `netra` command. Source is TypeScript, run through tsx's loader (no separate build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
