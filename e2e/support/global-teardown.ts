import { dropDatabase, stopProcess } from './stack.ts';

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.SKEIN_E2E_PID);
  if (pid) await stopProcess(pid);
  const db = process.env.SKEIN_E2E_DB;
  if (db) dropDatabase(db);
}
