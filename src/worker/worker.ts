// The worker: SQS → decode → map → validate → sink (Kinesis or a Caliper endpoint) → acknowledge, with
// no loss. Each message is handled on its own (no head-of-line blocking); a message is deleted only
// after the sink's destination accepted its record; a message that can never be mapped, or whose event
// the destination refuses, goes to the DLQ; a message whose record could not be put within the retry
// budget stays in SQS and comes back later; a message whose event type is filtered out (EVENT_TYPES,
// EXCLUDE_EVENT_TYPES, UNKNOWN_EVENTS=skip; once mapped, CALIPER_EVENT_TYPES, PERSON_ID_UNMAPPED=skip)
// is deleted unpublished. While the sink is blocked (the destination refuses our credentials) the
// worker receives nothing.
import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Logger } from 'pino';
import type { Envelope } from '../caliper/model.js';
import { mapOptions, type Config } from '../config.js';
import { MappingError } from '../errors.js';
import { eventFilter, type EventFilter } from '../filter.js';
import { ABORTED, backoffMs, sleep, unlessAborted } from './backoff.js';
import { readMessage, type Incoming } from './decode.js';
import type { MapOptions } from '../engine.js';
import { AwsCalls } from './clients.js';
import { Faults } from './faults.js';
import { kinesisSink, PublishError, RefusedError, type Sink, type SinkFactory } from './sink.js';
import { Acknowledger, changeVisibility, sendToDlq } from './sqs.js';
import { UnknownFields } from './unknown-fields.js';

export interface Counters {
  received: number;
  published: number;
  acknowledged: number;
  sentToDlq: number;
  retries: number;
  /** Messages left in SQS to come back (publish budget exhausted, or poison with no DLQ). */
  released: number;
  /** Messages deleted unpublished: their event type is filtered out. */
  skipped: number;
}

/** Of the skipped messages, those left out once mapped, by Caliper `Type.Action` (CALIPER_EVENT_TYPES) or `unmapped_person` (PERSON_ID_UNMAPPED=skip). */
export type SkippedByType = Map<string, number>;

interface InFlight {
  message: Message;
  visibleUntil: number;
}

export interface WorkerDeps {
  sqs: SQSClient;
  /** The destination (run.ts builds it from the config); without one, a Kinesis sink over `kinesis`. */
  sink?: SinkFactory;
  kinesis?: KinesisClient;
  config: Config;
  logger: Logger;
  /** What the SDK retried and the attempts cut at their deadline, counted by the clients (createClients). */
  awsCalls?: AwsCalls;
}

/** The partition key: the actor when it is a person (one user's events stay on one shard), else the object. */
export function partitionKey(envelope: Envelope, mode: Config['PARTITION_KEY']): string {
  const event = envelope.data[0];
  const key = mode === 'actor' && event.actor.type === 'Person' ? event.actor.id : event.object.id;
  return key.slice(0, 256);
}

export class Worker {
  readonly counters: Counters = { received: 0, published: 0, acknowledged: 0, sentToDlq: 0, retries: 0, released: 0, skipped: 0 };
  readonly skippedByType: SkippedByType = new Map();
  /** Failed AWS calls: counted by kind, logged concisely, and what /healthz reports. */
  readonly faults: Faults;
  /** What the SDK did beyond what the worker sees: retried attempts, their delay, attempts cut at their deadline. */
  readonly awsCalls: AwsCalls;
  /** Event types and fields Canvas sent that we do not know: counted and logged once each. */
  readonly unknowns: UnknownFields;
  /** Newest event lag (now − eventTime) in ms, for the stats line. */
  lagMs = 0;
  /** When a poller last completed a receive (or started): what /healthz checks. */
  lastPollAt = Date.now();

  private readonly inFlight = new Map<Promise<void>, InFlight>();
  private readonly capacityWaiters: (() => void)[] = [];
  /** One per poller, so that a signal carries at most the listeners of one receive or one back-off. */
  private aborts: AbortController[] = [];
  private readonly filter: EventFilter;
  /** The event id mode and the output format the worker maps (and validates) every record in. */
  private readonly mapOptions: MapOptions;
  private readonly publisher: Sink;
  private readonly acker: Acknowledger;
  private stopping = false;
  /** Set when stop() gives back what is still in flight. */
  private stopped = false;
  private pollers: Promise<void>[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  /** Not consuming because the sink is blocked (logged once). */
  private paused = false;

  constructor(private readonly deps: WorkerDeps) {
    const c = deps.config;
    this.faults = new Faults(deps.logger);
    this.awsCalls = deps.awsCalls ?? new AwsCalls();
    this.awsCalls.onTimeout = (operation, ms) => this.faults.timedOut(operation, ms);
    this.unknowns = new UnknownFields(deps.logger);
    this.filter = eventFilter({ only: c.EVENT_TYPES, exclude: c.EXCLUDE_EVENT_TYPES, unknown: c.UNKNOWN_EVENTS === 'skip' ? 'skip' : 'report' });
    this.mapOptions = mapOptions(c);
    const sink = deps.sink ?? (deps.kinesis ? kinesisSink(deps.kinesis, c) : undefined);
    if (!sink) throw new Error('the worker needs a sink (or a Kinesis client)');
    this.publisher = sink({ onRetry: () => this.counters.retries++, faults: this.faults, logger: deps.logger });
    this.acker = new Acknowledger(deps.sqs, c.SQS_QUEUE_URL, { faults: this.faults });
  }

  get config(): Config {
    return this.deps.config;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Why the worker receives nothing (its destination refuses our credentials), or undefined. */
  get blocked(): string | undefined {
    return this.publisher.blocked;
  }

  /** What the sink counts (requests by status, bytes, latency, refused events), for /metrics and the stats line. */
  sinkMetrics(): ReturnType<NonNullable<Sink['metrics']>> {
    return this.publisher.metrics?.() ?? [];
  }

  start(): void {
    const c = this.deps.config;
    this.aborts = Array.from({ length: c.POLLERS }, () => new AbortController());
    this.pollers = this.aborts.map((abort) => this.poll(abort.signal));
    // Extend the visibility of messages still in flight before it runs out.
    this.heartbeat = setInterval(() => void this.extendVisibility(), c.HEARTBEAT_INTERVAL_S * 1000);
    this.heartbeat.unref();
  }

  /**
   * Stops receiving, finishes and acknowledges what is in flight, and returns within the shutdown
   * timeout. What is not finished by then stays in SQS and is made visible again at once.
   */
  async stop(): Promise<{ unfinished: number }> {
    this.stopping = true;
    for (const abort of this.aborts) abort.abort();
    for (const wake of this.capacityWaiters.splice(0)) wake();
    clearInterval(this.heartbeat);
    const timeout = new AbortController();
    const deadline = sleep(this.deps.config.SHUTDOWN_TIMEOUT_MS - 500, timeout.signal);
    const finished = Promise.all([...this.pollers, ...this.inFlight.keys()]).then(() => Promise.all([this.publisher.drain(), this.acker.drain()]));
    await Promise.race([finished, deadline]);
    timeout.abort();
    await this.publisher.close?.().catch(() => undefined);
    const left = [...this.inFlight.values()].map((f) => f.message);
    // From here on, what is still in flight is given back, and nothing more is done to it (a request
    // that answers later neither releases, parks nor deletes a message that another worker may hold by then).
    this.stopped = true;
    if (left.length) await changeVisibility(this.deps.sqs, this.deps.config.SQS_QUEUE_URL, left, 0, this.faults);
    return { unfinished: left.length };
  }

  private async poll(signal: AbortSignal): Promise<void> {
    const c = this.deps.config;
    let failures = 0;
    while (!this.stopping) {
      await this.capacityFor(10, signal);
      if (this.stopping) break;
      let messages: Message[];
      try {
        // Sent without per-call options: the SDK then uses its cached middleware stack (an options
        // argument re-resolves the stack and drops the cache for every other SQS call too: ~10% of the
        // worker's CPU). Stopping does not wait for the long poll; what it brings after is released.
        const receive = this.deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: c.SQS_QUEUE_URL,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: c.RECEIVE_WAIT_TIME_S,
            VisibilityTimeout: c.VISIBILITY_TIMEOUT_S,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
            MessageAttributeNames: ['All'],
          }),
        );
        const out = await unlessAborted(receive, signal);
        if (out === ABORTED) {
          void this.releaseLate(receive);
          break;
        }
        messages = out.Messages ?? [];
        failures = 0;
        this.faults.succeeded('ReceiveMessage');
      } catch (err) {
        if (this.stopping) break;
        this.faults.failed('ReceiveMessage', err);
        await sleep(backoffMs(++failures, 200, 10_000), signal);
        continue;
      } finally {
        this.lastPollAt = Date.now();
      }
      for (const message of messages) this.track(message);
    }
  }

  /** A receive still open when the worker stopped: its messages, if any come, are made visible again at once. */
  private async releaseLate(receive: Promise<{ Messages?: Message[] }>): Promise<void> {
    const messages = (await receive.catch(() => undefined))?.Messages ?? [];
    if (messages.length) await changeVisibility(this.deps.sqs, this.deps.config.SQS_QUEUE_URL, messages, 0, this.faults);
  }

  private track(message: Message): void {
    this.counters.received++;
    const entry: InFlight = { message, visibleUntil: Date.now() + this.deps.config.VISIBILITY_TIMEOUT_S * 1000 };
    const work = this.handle(message).catch((err) => this.deps.logger.error({ err, messageId: message.MessageId }, 'unexpected error handling a message; it stays in SQS'));
    const done: Promise<void> = work.finally(() => {
      this.inFlight.delete(done);
      this.capacityWaiters.shift()?.();
    });
    this.inFlight.set(done, entry);
  }

  /** The data path of one message, in order. */
  private async handle(message: Message): Promise<void> {
    const deadline = Date.now() + this.deps.config.RETRY_BUDGET_MS;
    const next = this.decode(message);
    if ('poison' in next) return this.poison(message, next.poison);
    if ('skipped' in next) return this.skip(message, next.skipped, next.label);
    try {
      await this.publisher.put(next.record, next.key, deadline);
    } catch (err) {
      if (err instanceof RefusedError) return this.poison(message, new MappingError(err.code, err.message, next.eventName));
      const retryAfterMs = err instanceof PublishError ? err.retryAfterMs : undefined;
      if (this.publisher.blocked) {
        // A blocked sink is not a retry-budget problem, nor one per message: one line says the worker
        // stopped consuming (at once, not when a poller next asks for capacity), each message a debug line.
        this.consuming(false);
        this.deps.logger.debug({ messageId: message.MessageId }, 'not published: the sink is blocked; left in SQS');
      } else {
        const why = retryAfterMs !== undefined ? 'not published: the destination asked to be tried again later' : 'not published within the retry budget';
        this.deps.logger.warn({ messageId: message.MessageId, err: (err as Error).message }, `${why}; left in SQS`);
      }
      return this.release(message, retryAfterMs);
    }
    this.counters.published++;
    this.lagMs = Date.now() - next.eventTime;
    await this.acknowledge(message);
  }

  /**
   * A message's record, partition key and event time; or why it is skipped or poison. Only these wait
   * for Kinesis: the envelope's objects die young instead of being carried through collections.
   */
  private decode(message: Message): { poison: unknown } | { skipped: string; label?: string } | { record: Buffer; key: string; eventTime: number; eventName: string } {
    let incoming: Incoming;
    try {
      incoming = readMessage(message, this.filter, this.mapOptions, this.unknowns);
    } catch (err) {
      return { poison: err };
    }
    if ('skipped' in incoming) return incoming;
    const { envelope, record } = incoming;
    return { record, key: partitionKey(envelope, this.deps.config.PARTITION_KEY), eventTime: Date.parse(envelope.data[0].eventTime), eventName: incoming.eventName };
  }

  /** A message whose event type is filtered out: deleted, never published, never parked. */
  private async skip(message: Message, eventName: string, label?: string): Promise<void> {
    this.deps.logger.debug({ messageId: message.MessageId, event_name: eventName, caliper: label }, 'skipped: event type filtered out');
    this.counters.skipped++;
    if (label) this.skippedByType.set(label, (this.skippedByType.get(label) ?? 0) + 1);
    await this.acknowledge(message);
  }

  /** Deletes a message; one that cannot be deleted comes back later, and its event id makes the duplicate harmless. */
  private async acknowledge(message: Message): Promise<void> {
    if (this.stopped) return;
    try {
      await this.acker.delete(message);
    } catch (err) {
      // Failed calls are logged by `faults`; an entry SQS refused is worth a line of its own.
      if (!this.faults.isFailing('DeleteMessageBatch')) this.deps.logger.warn({ messageId: message.MessageId, error: (err as Error).message }, 'not deleted; it comes back');
      return;
    }
    this.counters.acknowledged++;
  }

  /** A message that can never succeed: to the DLQ with the reason, then deleted; with no DLQ, left for the redrive policy. */
  private async poison(message: Message, err: unknown): Promise<void> {
    if (this.stopped) return;
    const e = err instanceof MappingError ? err : new MappingError('MAPPER_ERROR', String(err));
    const dlq = this.deps.config.DLQ_URL;
    this.deps.logger.warn({ messageId: message.MessageId, error_code: e.code, event_name: e.eventName, error: e.message }, dlq ? 'poison message → DLQ' : 'poison message left for the redrive policy');
    if (!dlq) return this.release(message);
    try {
      await sendToDlq(this.deps.sqs, dlq, message, { code: e.code, message: e.message, eventName: e.eventName });
      this.faults.succeeded('SendMessage');
    } catch (sendErr) {
      this.faults.failed('SendMessage', sendErr);
      return this.release(message);
    }
    this.counters.sentToDlq++;
    await this.acknowledge(message);
  }

  /**
   * Leaves a message in SQS, visible again after a back-off that grows with its receive count, or
   * after `afterMs` when the destination said when to come back (Retry-After; SQS allows 12 h at most).
   */
  private async release(message: Message, afterMs?: number): Promise<void> {
    if (this.stopped) return;
    this.counters.released++;
    const receives = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const seconds = afterMs !== undefined ? Math.min(43_200, Math.ceil(afterMs / 1000)) : Math.min(900, 10 * 2 ** Math.min(receives, 7));
    await changeVisibility(this.deps.sqs, this.deps.config.SQS_QUEUE_URL, [message], seconds, this.faults);
  }

  private async extendVisibility(): Promise<void> {
    const c = this.deps.config;
    const now = Date.now();
    const due = [...this.inFlight.values()].filter((f) => f.visibleUntil - now < c.VISIBILITY_TIMEOUT_S * 1000 * 0.6);
    if (!due.length) return;
    const refused = new Set(await changeVisibility(this.deps.sqs, c.SQS_QUEUE_URL, due.map((f) => f.message), c.VISIBILITY_TIMEOUT_S, this.faults));
    for (const f of due) if (!refused.has(f.message.MessageId ?? '')) f.visibleUntil = now + c.VISIBILITY_TIMEOUT_S * 1000;
  }

  /** Back-pressure: waits until `n` more messages fit under MAX_IN_FLIGHT, and while the sink is blocked (saying so once, and when it ends). */
  private async capacityFor(n: number, signal: AbortSignal): Promise<void> {
    while (!this.stopping && (this.inFlight.size + n > this.deps.config.MAX_IN_FLIGHT || this.publisher.blocked)) {
      if (this.publisher.blocked) {
        this.consuming(false);
        await sleep(1_000, signal);
      } else await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
    }
    if (!this.stopping) this.consuming(true);
  }

  /** One log line when the worker stops consuming (its sink is blocked), one when it resumes. */
  private consuming(yes: boolean): void {
    if (this.paused === !yes) return;
    this.paused = !yes;
    if (yes) this.deps.logger.info('resumed consuming: the sink accepts again');
    else this.deps.logger.error({ reason: this.publisher.blocked }, `stopped consuming: ${this.publisher.blocked}; messages stay in SQS, /healthz answers 503`);
  }
}
