/**
 * Rate limiting per principal by cost, not by request count: each principal has a bucket of cost
 * that refills continuously; an operation takes its estimated cost from it, or is refused with how
 * long to wait. An alias-stuffed request costs what it asks for, so batching cannot dodge the limit.
 */
export interface RateLimitConfig {
  /** Cost a principal may spend per minute, sustained. */
  costPerMinute: number;
  /** Most cost a principal may spend at once (the bucket size). */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type RateDecision = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number };

export class CostRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly config: RateLimitConfig,
    private readonly maxPrincipals = 50_000,
  ) {
    if (config.costPerMinute <= 0 || config.burst <= 0) throw new Error('rate limits must be positive');
    this.perMs = config.costPerMinute / 60_000;
  }

  /** Takes `cost` from the principal's bucket, or says when enough will have refilled. */
  take(principal: string, cost: number, now: number = Date.now()): RateDecision {
    const charge = Math.min(Math.max(cost, 1), this.config.burst);
    const bucket = this.refill(principal, now);
    if (bucket.tokens >= charge) {
      bucket.tokens -= charge;
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((charge - bucket.tokens) / this.perMs / 1000)),
    };
  }

  private refill(principal: string, now: number): Bucket {
    let bucket = this.buckets.get(principal);
    if (bucket) {
      this.buckets.delete(principal); // re-insert: the Map's order is least recently used first
      bucket.tokens = Math.min(this.config.burst, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    } else {
      bucket = { tokens: this.config.burst, at: now };
      if (this.buckets.size >= this.maxPrincipals) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(principal, bucket);
    return bucket;
  }
}
