import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { HttpExecutor } from '../../schemas/serverTools';
import type { z } from 'zod';
import type { HostAllowList } from './hosts';

/** The most output one call may return: what one submission of client outputs may carry. */
export const MAX_HTTP_TOOL_OUTPUT_CHARS = 1_500_000;
const HEARTBEAT_MS = 1_000;

export interface HttpToolCall {
  runId: string;
  threadId: string;
  assistantId: string;
  callId: string;
  /** The model's arguments, sent as the JSON body. */
  arguments: string;
  heartbeat: () => void;
  /** Aborted when the run is cancelled or the attempt times out in Temporal. */
  signal: AbortSignal;
}

const fail = (type: string, message: string, retryable: boolean, nextRetryDelay?: number) =>
  ApplicationFailure.create({ type, message, nonRetryable: !retryable, nextRetryDelay });

/**
 * One attempt of a server-side tool's HTTP call: POST the arguments, read the answer. Failures are
 * ApplicationFailures whose retryability Temporal's retry policy follows: the endpoint unreachable, silent past
 * the timeout, 408/409/429 or 5xx are retried (a `retry-after` sets the delay); any other answer is final.
 * Nothing here logs or returns the URL or a header: failures say what happened, never where.
 */
export async function callHttpTool(
  executor: z.infer<typeof HttpExecutor>,
  call: HttpToolCall,
  hosts: HostAllowList,
): Promise<string> {
  if (!hosts.allows(executor.url)) {
    throw fail('ServerToolHostNotAllowed', "its endpoint's host is not allowed on this server.", false);
  }
  try {
    JSON.parse(call.arguments);
  } catch {
    throw fail('ServerToolBadArguments', `the arguments are not valid JSON: ${call.arguments.slice(0, 200)}`, false);
  }
  const timeoutMs = Math.round(executor.timeout_seconds * 1000);
  const timeout = AbortSignal.timeout(timeoutMs);
  const ticker = setInterval(call.heartbeat, HEARTBEAT_MS);
  try {
    const response = await fetch(executor.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any([call.signal, timeout]),
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
        // The same key on every attempt of one call: an endpoint with side effects can answer a retry once.
        'idempotency-key': `${call.runId}:${call.callId}`,
        'x-threadline-run-id': call.runId,
        'x-threadline-thread-id': call.threadId,
        'x-threadline-assistant-id': call.assistantId,
        'x-threadline-tool-call-id': call.callId,
        ...executor.headers,
      },
      body: call.arguments,
    });
    if (response.status >= 200 && response.status < 300) return await readCapped(response);
    await response.body?.cancel();
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status >= 300 && response.status < 400) {
      throw fail('ServerToolRedirected', `the endpoint answered ${status}; redirects are not followed.`, false);
    }
    const retryable = [408, 409, 429].includes(response.status) || response.status >= 500;
    throw fail('ServerToolHttpError', `the endpoint answered ${status}.`, retryable, retryAfterMs(response));
  } catch (error) {
    if (error instanceof ApplicationFailure) throw error;
    if (call.signal.aborted) throw new CancelledFailure('server-side tool call cancelled');
    if (timeout.aborted) throw fail('ServerToolTimeout', `no answer within ${executor.timeout_seconds} s.`, true);
    const code = (error as { cause?: { code?: string } }).cause?.code;
    throw fail('ServerToolUnreachable', `the endpoint could not be reached${code ? ` (${code})` : ''}.`, true);
  } finally {
    clearInterval(ticker);
  }
}

async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.length > MAX_HTTP_TOOL_OUTPUT_CHARS) {
      await reader.cancel();
      throw fail('ServerToolOutputTooLarge', `the answer is over ${MAX_HTTP_TOOL_OUTPUT_CHARS} characters.`, false);
    }
  }
  return text + decoder.decode();
}

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
