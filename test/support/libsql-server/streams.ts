/**
 * Hrana streams and their batons. A stream owns one connection from its first statement until it
 * is closed or expires, so its transaction holds its locks in between, as on sqld. A baton names
 * the stream and the request it answers, signed so that a client cannot forge or replay one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConnectionPool, SqlConnection } from './connections.js';
import { HttpError, ProtocolError } from './errors.js';

/** How long sqld remembers an ended stream, to tell "expired" from "closed" from "never existed". */
const STREAM_GRAVEYARD_MS = 300_000;

export interface HranaStream {
  readonly id: bigint;
  seq: bigint;
  connection: SqlConnection | null;
  readonly sqls: Map<number, string>;
  busy: boolean;
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
  /** When the stream's last request ended (Date.now()), for the expiry. */
  idleSince?: number;
}

type StreamEnd = 'closed' | 'expired';

export class StreamRegistry {
  private readonly streams = new Map<bigint, HranaStream>();
  private readonly graveyard = new Map<bigint, { end: StreamEnd; at: number }>();
  private readonly batonKey = randomBytes(32);
  private readonly sweeper: NodeJS.Timeout;
  private nextStreamId = randomBytes(4).readUInt32BE(0) * 1024;

  constructor(
    private readonly pool: ConnectionPool,
    private readonly expiryMs: () => number,
  ) {
    this.sweeper = setInterval(() => this.sweepGraveyard(), 30_000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  open(): HranaStream {
    const stream: HranaStream = {
      id: BigInt(this.nextStreamId++),
      // the HMAC makes batons unforgeable; the random start only keeps them from looking alike
      seq: BigInt(Math.floor(Math.random() * 2 ** 48)),
      connection: null,
      sqls: new Map(),
      busy: false,
      closed: false,
      timer: undefined,
    };
    this.streams.set(stream.id, stream);
    return stream;
  }

  encodeBaton(stream: HranaStream): string {
    const payload = Buffer.alloc(16);
    payload.writeBigUInt64BE(stream.id, 0);
    payload.writeBigUInt64BE(stream.seq, 8);
    const mac = createHmac('sha256', this.batonKey).update(payload).digest();
    return Buffer.concat([payload, mac]).toString('base64').replace(/=+$/, '');
  }

  forBaton(baton: string): HranaStream {
    const raw = Buffer.from(baton, 'base64');
    if (raw.length !== 48) throw new ProtocolError('Received an invalid baton');
    const payload = raw.subarray(0, 16);
    const mac = createHmac('sha256', this.batonKey).update(payload).digest();
    if (!timingSafeEqual(mac, raw.subarray(16))) throw new ProtocolError('Received an invalid baton');
    const id = payload.readBigUInt64BE(0);
    const stream = this.streams.get(id);
    if (stream === undefined) {
      const end = this.graveyard.get(id)?.end;
      if (end === 'expired') {
        throw new HttpError(400, 'application/json', JSON.stringify({ message: 'The stream has expired due to inactivity', code: 'STREAM_EXPIRED' }));
      }
      if (end === 'closed') throw new ProtocolError('Stream for this baton was closed');
      throw new ProtocolError('Received an invalid baton');
    }
    if (stream.busy || payload.readBigUInt64BE(8) !== stream.seq) {
      throw new ProtocolError('Received a baton that has already been used');
    }
    return stream;
  }

  scheduleExpiry(stream: HranaStream): void {
    stream.idleSince = Date.now();
    this.armExpiry(stream, this.expiryMs());
  }

  /** After the expiry setting changed: idle streams expire by the new one, counted from their last request. */
  rearmIdle(): void {
    for (const stream of this.streams.values()) {
      if (stream.busy || stream.closed || stream.idleSince === undefined) continue;
      if (stream.timer !== undefined) clearTimeout(stream.timer);
      this.armExpiry(stream, Math.max(0, stream.idleSince + this.expiryMs() - Date.now()));
    }
  }

  private armExpiry(stream: HranaStream, ms: number): void {
    stream.timer = setTimeout(() => {
      if (!stream.busy && !stream.closed) this.end(stream, 'expired');
    }, ms);
    stream.timer.unref();
  }

  /** Ends a stream; an open transaction on its connection is rolled back. */
  end(stream: HranaStream, end: StreamEnd): void {
    if (stream.closed) return;
    stream.closed = true;
    if (stream.timer !== undefined) clearTimeout(stream.timer);
    this.streams.delete(stream.id);
    this.graveyard.set(stream.id, { end, at: Date.now() });
    if (stream.connection !== null) {
      this.pool.release(stream.connection);
      stream.connection = null;
    }
  }

  connectionOf(stream: HranaStream): SqlConnection {
    if (stream.closed) throw new ProtocolError('Stream for this baton was closed');
    stream.connection ??= this.pool.acquire();
    return stream.connection;
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const stream of [...this.streams.values()]) this.end(stream, 'closed');
  }

  private sweepGraveyard(): void {
    const cutoff = Date.now() - STREAM_GRAVEYARD_MS;
    for (const [id, grave] of this.graveyard) {
      if (grave.at < cutoff) this.graveyard.delete(id);
    }
  }
}
