import type { LibsqlServerKnobs, LibsqlServerOptions, LibsqlServerStats } from './api.js';

// sqld's defaults
const STREAM_EXPIRY_MS = 10_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

class OneShotFault {
  private at = 0;

  arm(n: number, now: number): void {
    this.at = Number.isFinite(n) && n > 0 ? now + Math.floor(n) : 0;
  }

  remaining(now: number): number {
    return this.at === 0 ? 0 : Math.max(0, this.at - now);
  }

  fires(requestNumber: number): boolean {
    if (this.at === 0 || requestNumber !== this.at) return false;
    this.at = 0;
    return true;
  }
}

export class ServerKnobs implements LibsqlServerKnobs {
  latencyMs: number;
  private expiryMs: number;
  /** Called when the stream expiry changes, so idle streams follow it at once. */
  onStreamExpiryChange: () => void = () => {};
  busyTimeoutMs: number;
  replicationLag: number;
  readonly fail = new OneShotFault();
  readonly drop = new OneShotFault();
  readonly dropMid = new OneShotFault();

  constructor(
    options: LibsqlServerOptions,
    private readonly requestNumber: () => number,
  ) {
    this.latencyMs = options.latencyMs ?? 0;
    this.expiryMs = options.streamExpiryMs ?? STREAM_EXPIRY_MS;
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.replicationLag = options.replicationLag ?? 0;
    this.fail.arm(options.failOnRequest ?? 0, 0);
    this.drop.arm(options.dropOnRequest ?? 0, 0);
    this.dropMid.arm(options.dropMidResponse ?? 0, 0);
  }

  get streamExpiryMs(): number {
    return this.expiryMs;
  }
  set streamExpiryMs(ms: number) {
    this.expiryMs = ms;
    this.onStreamExpiryChange();
  }

  get failOnRequest(): number {
    return this.fail.remaining(this.requestNumber());
  }
  set failOnRequest(n: number) {
    this.fail.arm(n, this.requestNumber());
  }
  get dropOnRequest(): number {
    return this.drop.remaining(this.requestNumber());
  }
  set dropOnRequest(n: number) {
    this.drop.arm(n, this.requestNumber());
  }
  get dropMidResponse(): number {
    return this.dropMid.remaining(this.requestNumber());
  }
  set dropMidResponse(n: number) {
    this.dropMid.arm(n, this.requestNumber());
  }
}

export class ServerStats implements LibsqlServerStats {
  requests = 0;
  byPath: Record<string, number> = {};
  byRequestType: Record<string, number> = {};
  statements = 0;

  readonly #countStreams: () => number;

  constructor(countStreams: () => number) {
    this.#countStreams = countStreams;
  }

  get openStreams(): number {
    return this.#countStreams();
  }

  reset(): void {
    this.requests = 0;
    this.byPath = {};
    this.byRequestType = {};
    this.statements = 0;
  }
}
