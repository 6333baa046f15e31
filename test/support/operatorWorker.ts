import { NativeConnection, Worker } from '@temporalio/worker';
import type { ServerToolInvocation } from '../../src/temporal/shared';

/**
 * An operator's own Temporal worker serving server-side tools on its task queue, in the test process (what a
 * team would run in any Temporal SDK). Start it after the service: the service installs the Temporal runtime.
 */
export interface OperatorWorker {
  stop(): Promise<void>;
}

export async function startOperatorWorker(
  taskQueue: string,
  activities: Record<string, (input: ServerToolInvocation) => Promise<unknown>>,
): Promise<OperatorWorker> {
  const connection = await NativeConnection.connect({ address: process.env.THREADLINE_TEST_TEMPORAL_ADDRESS! });
  const worker = await Worker.create({ connection, taskQueue, activities });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
