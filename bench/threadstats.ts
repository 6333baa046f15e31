/**
 * Preload for bench/memprobe.ts (`node -r dist/bench/threadstats.js`, which worker threads inherit): every thread
 * of the process writes its V8 heap statistics every 2 s to $MEMPROBE_DIR/<pid>-<threadId>.json. A new value
 * written to $MEMPROBE_DIR/gc-<pid> makes each thread run one full GC; to $MEMPROBE_DIR/snap-<pid>, write one
 * heap snapshot.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread, threadId, workerData } from 'node:worker_threads';

const dir = process.env.MEMPROBE_DIR;
if (dir) {
  // Threadline's own threads pass their entry module; the Temporal SDK's workflow thread passes nothing.
  const entry = (workerData as { entry?: string } | undefined)?.entry;
  const label = isMainThread ? 'main' : entry ? path.basename(entry) : 'workflows';
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const file = path.join(dir, `${process.pid}-${threadId}.json`);
  const read = (name: string) => {
    try {
      return fs.readFileSync(path.join(dir, `${name}-${process.pid}`), 'utf8');
    } catch {
      return '';
    }
  };
  let gcSeen = read('gc');
  let snapSeen = read('snap');
  const timer = setInterval(() => {
    try {
      const gcNow = read('gc');
      if (gcNow !== gcSeen) {
        gcSeen = gcNow;
        gc();
      }
      const snapNow = read('snap');
      if (snapNow !== snapSeen) {
        snapSeen = snapNow;
        v8.writeHeapSnapshot(path.join(dir, `${process.pid}-${threadId}-${snapNow.trim()}.heapsnapshot`));
      }
      const spaces = Object.fromEntries(
        v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]),
      );
      const stats = {
        at: Date.now(),
        label,
        isMainThread,
        threadId,
        heap: v8.getHeapStatistics(),
        mem: process.memoryUsage(),
        spaces,
      };
      fs.writeFileSync(file, JSON.stringify(stats));
    } catch {
      // Best effort: a probe must not disturb the process it measures.
    }
  }, 2000);
  timer.unref();
}
