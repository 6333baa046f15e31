// PGlite (PostgreSQL in WebAssembly, with pgvector) in a worker thread. Jest runs test code in a VM that
// cannot load PGlite's dynamic imports; a worker thread is a plain Node context. Messages: {id, text, params}
// → {id, rows} or {id, error}. One connection, so BEGIN/COMMIT sent as queries frame a transaction.
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';

const db = await PGlite.create({ extensions: { vector } });
let queue = Promise.resolve();
parentPort.on('message', (message) => {
  queue = queue.then(async () => {
    try {
      const result = await db.query(message.text, message.params ?? []);
      parentPort.postMessage({ id: message.id, rows: result.rows });
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
});
parentPort.postMessage({ ready: true });
