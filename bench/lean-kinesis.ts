// A lean in-memory Kinesis endpoint for `npm run bench:e2e`: CreateStream, DescribeStreamSummary,
// DeleteStream, PutRecords and PutRecord in the AWS JSON 1.1 protocol the SDK speaks. It checks what
// Kinesis checks of a put (the stream exists; 1–500 records; partition keys of 1–256 characters; ≤ 1 MiB
// per record and ≤ 5 MiB per call), places each record on a shard by the MD5 of its partition key as
// Kinesis does, and answers with a sequence number and shard id per record, as Kinesis does. It keeps
// counts, not the records, and parses the first record of every call to check that it is a Caliper
// envelope. Not Kinesis: no throughput limits, no reads.
//
// Why not kinesis-local (the integration tests' Kinesis): it spends 2–7 ms of CPU per record, so the
// bench measured it, not the worker; kinesalite spends ~150–240 µs per record, more than half a core at
// the rates the worker reaches. This one spends a few µs per record; the bench reports its CPU share.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { awsJsonServer, ClientError } from './aws-json.js';

interface Stream {
  name: string;
  shards: number;
  /** The next sequence number of each shard. */
  next: bigint[];
}

export interface LeanKinesisStats {
  records: number;
  bytes: number;
  calls: number;
  /** First records of calls parsed and found to be a Caliper envelope, and those that were not. */
  checked: number;
  malformed: number;
}


const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_CALL_BYTES = 5 * 1024 * 1024;
const base64Bytes = (s: string) => (s.length * 3) / 4 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);
const shardId = (i: number) => `shardId-${String(i).padStart(12, '0')}`;

export function createLeanKinesis(): http.Server {
  const streams = new Map<string, Stream>();
  const stats: LeanKinesisStats = { records: 0, bytes: 0, calls: 0, checked: 0, malformed: 0 };

  const streamOf = (input: { StreamName?: string; StreamARN?: string }): Stream => {
    const name = input.StreamName ?? String(input.StreamARN ?? '').split('/').pop() ?? '';
    const s = streams.get(name);
    if (!s) throw new ClientError('ResourceNotFoundException', `Stream ${name} under account 000000000000 not found.`);
    return s;
  };

  /** The shard of a record: the MD5 of its partition key (or its explicit hash key) within evenly split hash key ranges. */
  const shardOf = (s: Stream, partitionKey: string, explicitHashKey?: string): number => {
    const hash = explicitHashKey !== undefined ? BigInt(explicitHashKey) : BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`);
    return Number((hash * BigInt(s.shards)) >> 128n);
  };

  const put = (s: Stream, record: { Data?: string; PartitionKey?: string; ExplicitHashKey?: string }) => {
    const key = record.PartitionKey ?? '';
    if (key.length < 1 || key.length > 256) throw new ClientError('ValidationException', 'PartitionKey must be 1 to 256 characters');
    const bytes = base64Bytes(record.Data ?? '') + Buffer.byteLength(key);
    if (bytes > MAX_RECORD_BYTES) throw new ClientError('ValidationException', 'a record is over 1 MiB');
    const shard = shardOf(s, key, record.ExplicitHashKey);
    const seq = s.next[shard]!++;
    return { bytes, SequenceNumber: seq.toString().padStart(56, '0'), ShardId: shardId(shard) };
  };

  const check = (data: string | undefined) => {
    try {
      const envelope = JSON.parse(Buffer.from(data ?? '', 'base64').toString('utf8'));
      if (typeof envelope?.data?.[0]?.id !== 'string') throw new Error('not a Caliper envelope');
      stats.checked++;
    } catch {
      stats.malformed++;
    }
  };

  const actions: Record<string, (input: any) => unknown> = {
    CreateStream: (input) => {
      const name = String(input.StreamName);
      if (streams.has(name)) throw new ClientError('ResourceInUseException', `Stream ${name} already exists`);
      const shards = Number(input.ShardCount ?? 4);
      // Sequence numbers are 56 digits, as Kinesis's; each shard starts in its own range.
      streams.set(name, { name, shards, next: Array.from({ length: shards }, (_, i) => 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n + BigInt(i) * 10n ** 40n) });
      return {};
    },
    DescribeStreamSummary: (input) => {
      const s = streamOf(input);
      return {
        StreamDescriptionSummary: {
          StreamName: s.name,
          StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${s.name}`,
          StreamStatus: 'ACTIVE',
          StreamModeDetails: { StreamMode: 'PROVISIONED' },
          RetentionPeriodHours: 24,
          StreamCreationTimestamp: Date.now() / 1000,
          EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
          EncryptionType: 'NONE',
          OpenShardCount: s.shards,
          ConsumerCount: 0,
        },
      };
    },
    DeleteStream: (input) => {
      streams.delete(streamOf(input).name);
      return {};
    },
    PutRecords: (input) => {
      const s = streamOf(input);
      const records = input.Records as { Data?: string; PartitionKey?: string; ExplicitHashKey?: string }[];
      if (!records?.length || records.length > 500) throw new ClientError('ValidationException', 'Records must hold 1 to 500 records');
      check(records[0]!.Data);
      let total = 0;
      const out = records.map((r) => {
        const { bytes, ...result } = put(s, r);
        total += bytes;
        return result;
      });
      if (total > MAX_CALL_BYTES) throw new ClientError('InvalidArgumentException', 'Records size exceeds 5 MB limit');
      stats.records += records.length;
      stats.bytes += total;
      return { FailedRecordCount: 0, Records: out, EncryptionType: 'NONE' };
    },
    PutRecord: (input) => {
      const s = streamOf(input);
      check(input.Data);
      const { bytes, ...result } = put(s, input);
      stats.records++;
      stats.bytes += bytes;
      return { ...result, EncryptionType: 'NONE' };
    },
  };

  return awsJsonServer({ version: '1.1', actions, stats, errorType: (type) => type, unknownAction: 'UnknownOperationException' });
}
