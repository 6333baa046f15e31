import type { Logger } from '../../src/logger';
import type { Store } from '../../src/store';
import { toJson } from '../../src/store/json';
import type { MessageRow } from '../../src/store/repositories/messages';
import type { NewRunEvent } from '../../src/store/repositories/runEvents';
import type { RunStepRow } from '../../src/store/repositories/runSteps';
import { annotationsDelta, imageFilesDelta, messageStatus, stepStatus, textDelta } from '../../src/streaming/events';
import type { Usage } from '../../src/temporal/shared';
import type { Annotator, TextAnnotation } from '../../src/tools';
import { messageObject } from '../../src/wire/objects';
import { runStepObject } from '../../src/wire/runs';
import { messageRow, nowSeconds, stepRow, ZERO, type StepIds } from './rows';
import type { Op } from './writeQueue';

/** What the run's tool results give this message: images shown before the text, annotations for the text. */
export interface MessageExtras {
  images: string[];
  annotate: Annotator;
}

/**
 * The assistant message of one model step, as ops for the step's write queue: it opens (with its
 * message_creation step) at the first token, its text goes out as deltas, and it closes with the step. A
 * retried attempt continues the text an earlier attempt streamed (`streamedText`) without resending it.
 * Images the run's tools produced open the message (`image_file` parts before the text); the text's
 * annotations (`sandbox:` links, citations) are found once it is final and sent before it completes.
 */
export class MessagePart {
  state: 'none' | 'open' | 'closed' = 'none';
  private text = '';
  private logged: number;
  private deltaQueued = false;
  private diverged = false;
  private row: MessageRow | undefined;
  private step: RunStepRow | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly ids: StepIds,
    private readonly attempt: number,
    private readonly streamedText: string,
    private readonly extras: MessageExtras,
  ) {
    this.logged = streamedText.length;
  }

  /** The text's position among the content parts: after the images. */
  private get textIndex(): number {
    return this.extras.images.length;
  }

  /** Everything the model has said in text so far. */
  get textSoFar(): string {
    return this.text;
  }

  /** Adds a fragment; returns whether a delta op must be queued for it (one pending at a time). */
  append(fragment: string): boolean {
    this.text += fragment;
    if (this.deltaQueued) return false;
    this.deltaQueued = true;
    return true;
  }

  /** The text not yet in the log, as one delta. */
  readonly deltas: Op = () => Promise.resolve(this.pendingDeltas());

  readonly open: Op = async () => {
    const at = nowSeconds();
    this.step = stepRow(this.ids, this.attempt, {
      id: this.ids.messageStepId,
      created_at: at,
      type: 'message_creation',
      step_details: this.creationDetails(),
    });
    this.row = messageRow(this.ids, this.attempt, at);
    await this.store.runSteps.upsert({ ...this.step, attempt: this.attempt });
    await this.store.messages.upsert({ ...this.row, attempt: this.attempt });
    const step = runStepObject(this.step);
    const opened = messageObject(this.row);
    const events = [
      stepStatus(step, 'created'),
      stepStatus(step),
      messageStatus(opened, 'created'),
      messageStatus(opened),
    ];
    // The created message shows no content (the SDKs build it from deltas); its images come as the first delta.
    if (this.extras.images.length > 0) events.push(imageFilesDelta(this.ids.messageId, this.extras.images));
    return events;
  };

  close(status: 'completed' | 'incomplete', usage: Usage): Op {
    return async () => {
      const events = this.pendingDeltas();
      if (!this.row || !this.step) return events;
      const annotations = this.extras.annotate(this.text);
      if (annotations.length > 0) events.push(annotationsDelta(this.ids.messageId, this.textIndex, annotations));
      const at = nowSeconds();
      const changes = {
        status,
        content: this.content(annotations),
        completed_at: status === 'completed' ? at : null,
        incomplete_at: status === 'incomplete' ? at : null,
        incomplete_details: status === 'incomplete' ? toJson({ reason: 'max_tokens' }) : null,
      };
      await this.store.messages.updateIfOpen(this.ids.projectId, this.ids.messageId, this.attempt, changes);
      const stepChanges = { status: 'completed', completed_at: at, usage: toJson(usage) };
      await this.store.runSteps.updateIfOpen(this.ids.projectId, this.ids.messageStepId, stepChanges, this.attempt);
      Object.assign(this.row, changes);
      Object.assign(this.step, stepChanges);
      return [...events, messageStatus(messageObject(this.row)), stepStatus(runStepObject(this.step))];
    };
  }

  /** Keeps the text so far in the still-open message (a cancelled or failed call); the run closes it. */
  readonly savePartial: Op = async () => {
    const events = this.pendingDeltas();
    await this.store.messages.updateIfOpen(this.ids.projectId, this.ids.messageId, this.attempt, {
      content: this.content(),
    });
    return events;
  };

  /** The message an earlier attempt streamed and this one did not continue: kept as seen, closed `incomplete`. */
  readonly closeOrphan: Op = async () => {
    const at = nowSeconds();
    const step = stepRow(this.ids, this.attempt, {
      id: this.ids.messageStepId,
      created_at: at,
      type: 'message_creation',
      status: 'completed',
      completed_at: at,
      usage: toJson(ZERO),
      step_details: this.creationDetails(),
    });
    const orphan: MessageRow = {
      ...messageRow(this.ids, this.attempt, at),
      status: 'incomplete',
      content: toJson([{ type: 'text', text: { value: this.streamedText, annotations: [] } }]),
      incomplete_at: at,
      incomplete_details: toJson({ reason: 'run_failed' }),
    };
    await this.store.runSteps.upsert({ ...step, attempt: this.attempt });
    await this.store.messages.upsert({ ...orphan, attempt: this.attempt });
    return [messageStatus(messageObject(orphan)), stepStatus(runStepObject(step))];
  };

  private pendingDeltas(): NewRunEvent[] {
    this.deltaQueued = false;
    if (this.text.length <= this.logged) return [];
    const earlier = this.streamedText;
    if (!this.diverged && earlier !== '' && !this.text.startsWith(earlier.slice(0, this.text.length))) {
      this.diverged = true;
      this.logger.warn(
        { runId: this.ids.runId, messageId: this.ids.messageId, attempt: this.attempt },
        'retried model step answered differently from the text already streamed; the completed message is authoritative',
      );
    }
    const delta = textDelta(this.ids.messageId, this.logged, this.text.slice(this.logged), this.textIndex);
    this.logged = this.text.length;
    return [delta];
  }

  private content(annotations: TextAnnotation[] = []): string {
    const images = this.extras.images.map((file_id) => ({ type: 'image_file', image_file: { file_id } }));
    const text = this.text === '' ? [] : [{ type: 'text', text: { value: this.text, annotations } }];
    return toJson([...images, ...text]);
  }

  private creationDetails(): string {
    return toJson({ type: 'message_creation', message_creation: { message_id: this.ids.messageId } });
  }
}
