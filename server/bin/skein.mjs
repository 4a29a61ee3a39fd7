#!/usr/bin/env node
// The `skein` command. The server runs from its TypeScript sources through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
