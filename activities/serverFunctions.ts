import { Context } from '@temporalio/activity';
import { callHttpTool } from '../src/tools/server/http';
import type { ActivityDeps } from './index';
import { findCall, record, withOutput, type ServerCallTarget } from './tools';

/**
 * Extension: server-side functions. The HTTP executor runs here, on the run's own task queue; a Temporal
 * activity executor runs on the operator's workers and its output is recorded here (a local activity). Either
 * way the result is stored by (run, call) — retried or replayed, a call ends with exactly one output — and
 * streams as one step delta carrying `function.output`.
 */
export function serverFunctionActivities({ store, tools }: ActivityDeps) {
  return {
    async runHttpTool(target: ServerCallTarget & { name: string }): Promise<void> {
      const found = await findCall(store, target);
      if (!found) return; // the run was deleted with its thread
      const tool = await tools.serverFunctions?.get(target.projectId, target.name);
      if (tool?.executor.type !== 'http' || !tools.serverFunctions) {
        const output = `The ${target.name} tool is no longer available on this server.`;
        return record(store, target, found.index, withOutput(found.call, { output }));
      }
      const ctx = Context.current();
      const output = await callHttpTool(
        tool.executor,
        { ...target, heartbeat: () => ctx.heartbeat(), signal: ctx.cancellationSignal },
        tools.serverFunctions.hosts,
      );
      await record(store, target, found.index, withOutput(found.call, { output }));
    },

    /** What an operator's activity returned: a string as it is, anything else as its JSON. */
    async recordServerToolOutput(target: ServerCallTarget & { output: unknown }): Promise<void> {
      const found = await findCall(store, target);
      if (!found) return;
      const output = typeof target.output === 'string' ? target.output : (JSON.stringify(target.output) ?? '');
      await record(store, target, found.index, withOutput(found.call, { output }));
    },
  };
}
