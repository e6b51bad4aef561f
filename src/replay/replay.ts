// replay-dlq: gets the messages parked in a dead-letter queue back into the pipeline, without losing
// one. Every mode moves a message the same way — the new copy first (source queue, Kinesis, or the DLQ
// again with an updated reason), the DLQ copy deleted only after that succeeded — so an interruption
// at any point leaves at most a duplicate, which the deterministic event ids absorb.
// Messages a run does not handle (filtered out, beyond --max, dry run, still failing) are held
// invisible while the run scans, so that each is seen once, and made visible again when it ends.
import {
  CancelMessageMoveTaskCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { mapOptions, type Config } from '../config.js';
import type { MapOptions } from '../engine.js';
import { MappingError } from '../errors.js';
import { backoffMs, sleep } from '../worker/backoff.js';
import { recordFor, type Decoded } from '../worker/decode.js';
import { kinesisSink, RefusedError, type Sink, type SinkFactory } from '../worker/sink.js';
import { Acknowledger, changeVisibility, ERROR_ATTRIBUTES, queueArn, sendToDlq } from '../worker/sqs.js';
import { partitionKey } from '../worker/worker.js';
import { RateLimiter } from './rate.js';
import { sqsAttributeText } from '../sqs-text.js';

export type ReplayMode = 'to-source' | 'direct' | 'native';

export interface ReplayOptions {
  dlqUrl: string;
  mode: ReplayMode;
  /** to-source: where messages go. native: the move task's destination (absent: each message's original source). */
  sourceUrl?: string;
  /** direct: the worker's configuration (stream, batching, retry budget, partition key, event ids). */
  config?: Config;
  /** Select only messages whose event_name is one of these. */
  eventNames?: string[];
  /** Select only messages whose error_code is one of these ('none' for messages without one, e.g. moved by SQS's redrive policy). */
  errorCodes?: string[];
  /** Handle at most this many selected messages. */
  max?: number;
  /** Messages per second, moved or published. */
  rate?: number;
  dryRun?: boolean;
  /** Concurrent receive loops. */
  concurrency?: number;
  receiveWaitS?: number;
  /** How long a received message stays invisible while the run holds it. */
  visibilityTimeoutS?: number;
  /** native: how often the move task is polled. */
  pollIntervalMs?: number;
}

export interface ReplayDeps {
  sqs: SQSClient;
  /** direct: where to publish (the worker's configured sink); without one, Kinesis over `kinesis`. */
  sink?: SinkFactory;
  kinesis?: KinesisClient;
  /** Aborting stops the run cleanly: no new receives, what is being moved finishes, held messages are restored. */
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export interface Progress {
  mode: ReplayMode;
  dryRun: boolean;
  /** Approximate number of messages to go through (the DLQ's visible count at the start, capped by --max). */
  total: number;
  scanned: number;
  /** Moved to the source queue, or published. */
  handled: number;
  failing: number;
  startedAt: number;
}

/** Messages counted by what they are (event_name × error_code) and what they become. */
export interface Group {
  eventName: string;
  errorCode: string;
  outcome: string;
  count: number;
}

export interface Failure {
  messageId: string;
  eventName: string;
  code: string;
  reason: string;
}

export interface ReplaySummary extends Progress {
  /** Messages that matched the filters. */
  selected: number;
  /** Left in the DLQ, untouched, because a filter did not select them. */
  skipped: number;
  /** Selected but not handled because --max was reached. */
  beyondMax: number;
  moved: number;
  published: number;
  stillFailing: Failure[];
  groups: Group[];
  interrupted: boolean;
  /** Why the run could not go through the whole DLQ, if it could not. */
  incomplete?: string;
  durationMs: number;
}

/** The error_code of a message that has none (moved to the DLQ by SQS's redrive policy, not by the worker). */
export const NO_ERROR_CODE = 'none';

export async function replayDlq(options: ReplayOptions, deps: ReplayDeps): Promise<ReplaySummary> {
  if (options.mode === 'native' && !options.dryRun) return nativeMove(options, deps);
  return new Replay(options, deps).run();
}

async function visibleCount(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

/** A DLQ message as replay sees it: what it is, and what mapping it now gives. */
interface Examined {
  message: Message;
  eventName: string;
  errorCode: string;
  result: (Decoded & { record: Buffer }) | MappingError;
}

class Replay {
  private readonly o: Required<Pick<ReplayOptions, 'concurrency' | 'receiveWaitS' | 'visibilityTimeoutS'>> & ReplayOptions;
  /** How messages are mapped (the configuration's, made once). */
  private readonly mapOptions: MapOptions;
  private readonly summary: ReplaySummary;
  /** Messages left in the DLQ by this run, by MessageId (latest receipt handle): made visible again at the end. */
  private readonly held = new Map<string, Message>();
  /** Messages this run moved or published (their DLQ copy is deleted or being deleted). */
  private readonly done = new Set<string>();
  /** New ids of messages this run re-parked with an updated reason: not examined twice. */
  private readonly reparked = new Set<string>();
  private readonly acker: Acknowledger;
  private readonly publisher?: Sink;
  private readonly limiter: RateLimiter;
  private reserved = 0;
  private stopReceiving = false;
  /** Dry run: selected messages that would still fail (mapped now: a MappingError), as the summary's table counts them. */
  private wouldFail = 0;

  constructor(
    options: ReplayOptions,
    private readonly deps: ReplayDeps,
  ) {
    this.o = { ...options, concurrency: options.concurrency ?? 4, receiveWaitS: options.receiveWaitS ?? 2, visibilityTimeoutS: options.visibilityTimeoutS ?? 300 };
    this.mapOptions = options.config ? mapOptions(options.config) : { eventId: 'deterministic' };
    this.summary = {
      mode: options.mode,
      dryRun: Boolean(options.dryRun),
      total: 0,
      scanned: 0,
      handled: 0,
      failing: 0,
      startedAt: Date.now(),
      selected: 0,
      skipped: 0,
      beyondMax: 0,
      moved: 0,
      published: 0,
      stillFailing: [],
      groups: [],
      interrupted: false,
      durationMs: 0,
    };
    this.acker = new Acknowledger(deps.sqs, options.dlqUrl);
    this.limiter = new RateLimiter(options.rate);
    const c = options.config;
    if (options.mode === 'direct' && !options.dryRun) {
      const sink = deps.sink ?? (c && deps.kinesis ? kinesisSink(deps.kinesis, c) : undefined);
      if (!c || !sink) throw new Error('--direct needs the worker configuration and a sink (or a Kinesis client)');
      this.publisher = sink({});
    }
  }

  async run(): Promise<ReplaySummary> {
    const visible = await visibleCount(this.deps.sqs, this.o.dlqUrl);
    this.summary.total = this.o.max === undefined ? visible : Math.min(visible, this.o.max);
    this.report();
    await Promise.all(Array.from({ length: this.o.concurrency }, () => this.receiveLoop()));
    await this.publisher?.drain();
    await this.publisher?.close?.();
    await this.acker.drain();
    // Everything this run did not move goes back to the DLQ as it was, visible at once.
    const refused = await changeVisibility(this.deps.sqs, this.o.dlqUrl, [...this.held.values()], 0);
    if (refused.length) this.summary.incomplete = `${refused.length} held messages could not be made visible again; they reappear after ${this.o.visibilityTimeoutS} s`;
    this.summary.interrupted = Boolean(this.deps.signal?.aborted);
    this.summary.durationMs = Date.now() - this.summary.startedAt;
    this.report();
    return this.snapshot();
  }

  private report(): void {
    this.deps.onProgress?.(this.snapshot());
  }

  /** The summary so far; handled and failing follow from what was moved, published and refused (a dry run: what would fail). */
  private snapshot(): ReplaySummary {
    const failing = this.o.dryRun ? this.wouldFail : this.summary.stillFailing.length;
    return { ...this.summary, handled: this.summary.moved + this.summary.published, failing };
  }

  private async receiveLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopReceiving && !this.deps.signal?.aborted) {
      let messages: Message[];
      try {
        const out = await this.deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.o.dlqUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.o.receiveWaitS,
            VisibilityTimeout: this.o.visibilityTimeoutS,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
        );
        messages = out.Messages ?? [];
        failures = 0;
      } catch (err) {
        if ((err as Error).name === 'OverLimit') {
          // SQS's cap on in-flight messages (120,000 on a standard queue): the rest must wait for another run.
          this.summary.incomplete = `stopped scanning at SQS's in-flight limit (${(err as Error).message}); run again to go on`;
          this.stopReceiving = true;
          return;
        }
        if (++failures > 5) throw err;
        await sleep(backoffMs(failures, 200, 5_000));
        continue;
      }
      // Received but interrupted before handling: back to the DLQ untouched.
      if (this.deps.signal?.aborted) {
        for (const m of messages) this.hold(m);
        return;
      }
      if (!messages.length) return;
      const selected = messages.flatMap((m) => this.select(m));
      if (this.o.max !== undefined && this.reserved >= this.o.max) this.stopReceiving = true;
      if (selected.length && !this.o.dryRun) {
        await this.limiter.take(selected.length);
        if (this.o.mode === 'direct') await this.publishAll(selected);
        else await this.sendToSource(selected);
      }
      this.report();
    }
  }

  /** Counts a received message, and returns it if this run is to handle it; otherwise holds it. */
  private select(message: Message): Examined[] {
    const id = message.MessageId ?? '';
    if (this.done.has(id)) {
      // Already moved, but its delete failed and it came back: delete it now.
      void this.acker.delete(message).catch(() => undefined);
      return [];
    }
    if (this.held.has(id) || this.reparked.has(id)) {
      // Seen already (its visibility timeout ran out during a long run): keep holding it.
      this.held.set(id, message);
      return [];
    }
    this.summary.scanned++;
    const e = this.examine(message);
    const matches = (!this.o.eventNames?.length || this.o.eventNames.includes(e.eventName)) && (!this.o.errorCodes?.length || this.o.errorCodes.includes(e.errorCode));
    if (!matches) {
      this.summary.skipped++;
      this.hold(message);
      return [];
    }
    this.summary.selected++;
    if (this.o.max !== undefined && this.reserved >= this.o.max) {
      this.summary.beyondMax++;
      this.hold(message);
      return [];
    }
    this.reserved++;
    this.count(e);
    if (this.o.dryRun) {
      this.hold(message);
      return [];
    }
    return [e];
  }

  private examine(message: Message): Examined {
    const attributes = message.MessageAttributes ?? {};
    let result: Examined['result'];
    try {
      result = recordFor(message.Body ?? '', this.mapOptions);
    } catch (err) {
      result = err instanceof MappingError ? err : new MappingError('MAPPER_ERROR', String(err));
    }
    return {
      message,
      eventName: attributes.event_name?.StringValue || result.eventName || '(unknown)',
      errorCode: attributes.error_code?.StringValue || NO_ERROR_CODE,
      result,
    };
  }

  /** What a selected message becomes in this mode, for the summary and the dry run. */
  private count(e: Examined): void {
    const r = e.result;
    if (r instanceof MappingError) this.wouldFail++;
    const caliper = r instanceof MappingError ? '' : `${r.envelope.data[0].type} ${r.envelope.data[0].action}`;
    const outcome =
      this.o.mode === 'direct'
        ? r instanceof MappingError ? `stays in the DLQ: ${r.code}` : `published as ${caliper}`
        : r instanceof MappingError ? `to the source queue; the worker parks it again: ${r.code}` : `to the source queue; the worker publishes ${caliper}`;
    const group = this.summary.groups.find((g) => g.eventName === e.eventName && g.errorCode === e.errorCode && g.outcome === outcome);
    if (group) group.count++;
    else this.summary.groups.push({ eventName: e.eventName, errorCode: e.errorCode, outcome, count: 1 });
  }

  private hold(message: Message): void {
    this.held.set(message.MessageId ?? '', message);
  }

  private fail(e: Examined, code: string, reason: string): void {
    this.summary.stillFailing.push({ messageId: e.message.MessageId ?? '', eventName: e.eventName, code, reason });
  }

  private async deleteMoved(e: Examined): Promise<void> {
    this.done.add(e.message.MessageId ?? '');
    try {
      await this.acker.delete(e.message);
    } catch (err) {
      this.fail(e, 'DELETE_FAILED', `moved, but the DLQ copy could not be deleted (a later run moves it again, with the same event id): ${(err as Error).message}`);
    }
  }

  /** --to-source: the body and the original attributes (ours removed) to the source queue, then delete. */
  private async sendToSource(batch: Examined[]): Promise<void> {
    const entries = batch.map((e, i) => ({ Id: String(i), MessageBody: e.message.Body ?? '', MessageAttributes: originalAttributes(e.message) }));
    let refused = new Map<number, string>();
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.deps.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.o.sourceUrl, Entries: entries }));
        refused = new Map((out.Failed ?? []).map((f) => [Number(f.Id), `${f.Code}: ${f.Message ?? ''}`]));
        break;
      } catch (err) {
        if (attempt < 4 && (err as Error).name !== 'BatchRequestTooLong') {
          await sleep(backoffMs(attempt, 200, 5_000));
          continue;
        }
        refused = new Map(batch.map((_, i) => [i, `SendMessageBatch failed: ${(err as Error).name}: ${(err as Error).message}`]));
        break;
      }
    }
    await Promise.all(
      batch.map(async (e, i) => {
        const reason = refused.get(i);
        if (reason !== undefined) {
          this.fail(e, 'SEND_FAILED', reason);
          return this.hold(e.message);
        }
        this.summary.moved++;
        await this.deleteMoved(e);
      }),
    );
  }

  /** --direct: map and publish like the worker; what still fails stays in the DLQ with its current reason. */
  private async publishAll(batch: Examined[]): Promise<void> {
    const c = this.o.config!;
    await Promise.all(
      batch.map(async (e) => {
        const r = e.result;
        if (r instanceof MappingError) return this.stillFailing(e, r.code, r.message);
        try {
          await this.publisher!.put(r.record, partitionKey(r.envelope, c.PARTITION_KEY), Date.now() + c.RETRY_BUDGET_MS);
        } catch (err) {
          // The endpoint refused this event itself (SINK=caliper-http), or it was not accepted in time.
          return this.stillFailing(e, err instanceof RefusedError ? err.code : 'PUBLISH_FAILED', (err as Error).message);
        }
        this.summary.published++;
        await this.deleteMoved(e);
      }),
    );
  }

  /** Leaves a message in the DLQ; if its reason changed, as a new message with the new reason (then the old one is deleted). */
  private async stillFailing(e: Examined, code: string, reason: string): Promise<void> {
    this.fail(e, code, reason);
    const attributes = e.message.MessageAttributes ?? {};
    if (attributes.error_code?.StringValue === code && attributes.error_message?.StringValue === sqsAttributeText(reason)) return this.hold(e.message);
    try {
      const newId = await sendToDlq(this.deps.sqs, this.o.dlqUrl, e.message, { code, message: reason, eventName: e.eventName === '(unknown)' ? undefined : e.eventName });
      if (newId) this.reparked.add(newId);
    } catch {
      return this.hold(e.message);
    }
    await this.acker.delete(e.message).catch(() => this.hold(e.message));
  }
}

/** The attributes a message had before the worker parked it: the error attributes removed. */
function originalAttributes(message: Message): Record<string, MessageAttributeValue> | undefined {
  const kept = Object.entries(message.MessageAttributes ?? {}).filter(([k]) => !ERROR_ATTRIBUTES.includes(k));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

const TASK_DONE = new Set(['COMPLETED', 'CANCELLED', 'FAILED']);

/** --native: SQS's own message-move task, followed to completion; cancelled on interruption. */
async function nativeMove(o: ReplayOptions, deps: ReplayDeps): Promise<ReplaySummary> {
  const startedAt = Date.now();
  const sourceArn = await queueArn(deps.sqs, o.dlqUrl);
  const destinationArn = o.sourceUrl ? await queueArn(deps.sqs, o.sourceUrl) : undefined;
  const total = await visibleCount(deps.sqs, o.dlqUrl);
  const progress: Progress = { mode: 'native', dryRun: false, total, scanned: 0, handled: 0, failing: 0, startedAt };
  deps.onProgress?.({ ...progress });
  const { TaskHandle } = await deps.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn, MaxNumberOfMessagesPerSecond: o.rate }));
  let cancelled = false;
  let incomplete: string | undefined;
  for (;;) {
    const tasks = (await deps.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }))).Results ?? [];
    // Only one task runs per source queue; the newest comes first.
    const task = tasks.find((t) => t.TaskHandle === TaskHandle) ?? tasks[0];
    if (task) {
      progress.total = task.ApproximateNumberOfMessagesToMove ?? progress.total;
      progress.handled = progress.scanned = task.ApproximateNumberOfMessagesMoved ?? 0;
      deps.onProgress?.({ ...progress });
      if (task.Status && TASK_DONE.has(task.Status)) {
        if (task.Status === 'FAILED') incomplete = `the message-move task failed: ${task.FailureReason ?? 'no reason given'}`;
        break;
      }
    }
    if (deps.signal?.aborted && !cancelled) {
      cancelled = true;
      await deps.sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle }));
      continue;
    }
    await sleep(o.pollIntervalMs ?? 1_000, cancelled ? undefined : deps.signal);
  }
  return {
    ...progress,
    selected: progress.handled,
    skipped: 0,
    beyondMax: 0,
    moved: progress.handled,
    published: 0,
    stillFailing: [],
    groups: [],
    interrupted: cancelled,
    incomplete,
    durationMs: Date.now() - startedAt,
  };
}
