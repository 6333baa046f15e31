import type { ToolCall } from 'openai/resources/beta/threads/runs/steps';
import type { Store } from '../../src/store';
import { toJson } from '../../src/store/json';
import type { NewRunEvent } from '../../src/store/repositories/runEvents';
import type { RunStepRow } from '../../src/store/repositories/runSteps';
import { stepStatus, toolCallStarted, toolCallText } from '../../src/streaming/events';
import type { Usage } from '../../src/temporal/shared';
import { kindOf, type ToolKind, type Toolbox } from '../../src/tools';
import { runStepObject } from '../../src/wire/runs';
import { callIdsUsedBefore, clientCallId, type StreamedCall } from './earlierAttempts';
import { nowSeconds, stepRow, ZERO, type StepIds } from './rows';
import type { Op } from './writeQueue';

/** One call as the model streams it. */
interface CallSlot {
  kind: ToolKind;
  modelId: string;
  name: string;
  arguments: string;
  /** The id the client sees, fixed when the call's first delta is logged. */
  id: string | undefined;
  /** How much of the kind's streamed text the log already has. */
  logged: number;
  textQueued: boolean;
}

/** A finished call: what the client or a built-in executor answers. */
export interface MadeCall {
  id: string;
  kind: ToolKind;
  name: string;
  arguments: string;
}

/**
 * The tool_calls step of one model step, as ops for the step's write queue: it opens at the first call, each
 * call starts with a delta carrying its id and type, and what the call streams (per its kind) follows as
 * deltas. A retried attempt keeps the ids clients already saw and does not resend text.
 */
export class ToolCallsPart {
  private readonly slots: Array<CallSlot | undefined> = [];
  private row: RunStepRow | undefined;
  private usedCallIds: Set<string> | undefined;

  constructor(
    private readonly store: Store,
    private readonly ids: StepIds,
    private readonly attempt: number,
    private readonly tools: Toolbox,
    private readonly streamed: ReadonlyArray<StreamedCall | undefined>,
  ) {}

  /** Whether any call has begun (has a name). */
  get started(): boolean {
    return this.slots.some((slot) => slot?.name);
  }

  /**
   * Adds a fragment of call `index`. Returns what the stream must do: open the step and start this call
   * (`start`, first named fragment), queue a text delta (`text`), or nothing.
   */
  add(index: number, fragment: { id?: string; name?: string; arguments?: string }): { start: boolean; text: boolean } {
    const slot = (this.slots[index] ??= {
      kind: kindOf('function'),
      modelId: '',
      name: '',
      arguments: '',
      id: undefined,
      logged: this.streamed[index]?.text.length ?? 0,
      textQueued: false,
    });
    const start = slot.name === '' && Boolean(fragment.name);
    if (fragment.id) slot.modelId = fragment.id;
    if (fragment.name) slot.name += fragment.name;
    if (fragment.arguments) slot.arguments += fragment.arguments;
    if (start) slot.kind = this.tools.kindOfCall(slot.name);
    const text = slot.name !== '' && Boolean(fragment.arguments) && !slot.textQueued;
    if (text) slot.textQueued = true;
    return { start, text };
  }

  /** Whether a call other than `index` has begun (the step is then already open). */
  othersStarted(index: number): boolean {
    return this.slots.some((slot, i) => i !== index && slot?.name);
  }

  readonly open: Op = async () => {
    this.usedCallIds = await callIdsUsedBefore(this.store, this.ids);
    this.row = stepRow(this.ids, this.attempt, {
      id: this.ids.toolStepId,
      type: 'tool_calls',
      step_details: toJson({ type: 'tool_calls', tool_calls: [] }),
    });
    await this.store.runSteps.upsert({ ...this.row, attempt: this.attempt });
    const step = runStepObject(this.row);
    return [stepStatus(step, 'created'), stepStatus(step)];
  };

  startCall(index: number): Op {
    return () => {
      const slot = this.slots[index]!;
      const earlier = this.streamed[index];
      slot.id = earlier?.id || clientCallId(slot.modelId, this.usedCallIds ?? new Set(), this.ids.toolStepId, index);
      this.usedCallIds?.add(slot.id);
      const name = earlier?.name || slot.name;
      return Promise.resolve([toolCallStarted(this.ids.toolStepId, index, slot.kind.startDelta(index, slot.id, name))]);
    };
  }

  textDeltas(index: number): Op {
    return () => Promise.resolve(this.pendingText(index));
  }

  /** The calls as made, ids fixed, in index order. Call after the queue settled. */
  calls(): MadeCall[] {
    return this.slots
      .filter((slot): slot is CallSlot & { id: string } => Boolean(slot?.id))
      .map((slot) => ({ id: slot.id, kind: slot.kind, name: slot.name, arguments: slot.arguments }));
  }

  /** Records the finished calls (results still unknown) and the step's usage; the step stays in progress. */
  finish(calls: MadeCall[], usage: Usage): Op {
    return async () => {
      const events = this.allPendingText();
      const details = { type: 'tool_calls', tool_calls: calls.map((call): ToolCall => call.kind.stored(call)) };
      await this.store.runSteps.upsert({
        ...this.row!,
        step_details: toJson(details),
        usage: toJson(usage),
        attempt: this.attempt,
      });
      return events;
    };
  }

  /** A tool_calls step cut short by the token limit ends with the run (reference §4.6, token limit). */
  close(usage: Usage): Op {
    return async () => {
      const events = this.allPendingText();
      const changes = { status: 'completed', completed_at: nowSeconds(), usage: toJson(usage) };
      await this.store.runSteps.updateIfOpen(this.ids.projectId, this.ids.toolStepId, changes, this.attempt);
      return [...events, stepStatus(runStepObject({ ...this.row!, ...changes }))];
    };
  }

  /** The calls an earlier attempt streamed and this one did not make: that step failed. */
  readonly closeOrphans: Op = async () => {
    const at = nowSeconds();
    const calls = this.streamed
      .filter((c): c is StreamedCall => Boolean(c))
      .map((c) => kindOf(c.type).stored({ id: c.id, name: c.name, arguments: c.text }));
    const step = stepRow(this.ids, this.attempt, {
      id: this.ids.toolStepId,
      created_at: at,
      type: 'tool_calls',
      status: 'failed',
      failed_at: at,
      last_error: toJson({ code: 'server_error', message: 'The model call was retried and answered differently.' }),
      usage: toJson(ZERO),
      step_details: toJson({ type: 'tool_calls', tool_calls: calls }),
    });
    await this.store.runSteps.upsert({ ...step, attempt: this.attempt });
    return [stepStatus(runStepObject(step))];
  };

  private allPendingText(): NewRunEvent[] {
    return this.slots.flatMap((_, index) => this.pendingText(index));
  }

  private pendingText(index: number): NewRunEvent[] {
    const slot = this.slots[index];
    if (!slot?.id) return [];
    slot.textQueued = false;
    const text = slot.kind.streamedText(slot.arguments);
    if (text.length <= slot.logged) return [];
    const fragment = text.slice(slot.logged);
    const delta = toolCallText(this.ids.toolStepId, index, slot.logged, slot.kind.textDelta(index, fragment));
    slot.logged = text.length;
    return [delta];
  }
}
