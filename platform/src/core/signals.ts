import { EventEmitter } from 'node:events';

/**
 * In-process wake-ups so the relay and consumers react to a commit at once instead of waiting for
 * their next poll. Purely an accelerator: every loop also polls, so a lost signal only adds latency.
 */
export class Signals {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  notify(topic: string): void {
    this.emitter.emit(topic);
  }
  /** Calls `listener` on every notify of `topic` until the returned function is called. */
  listen(topic: string, listener: () => void): () => void {
    this.emitter.on(topic, listener);
    return () => this.emitter.off(topic, listener);
  }
  /** Resolves on the next notify of `topic`, or after `ms`, or when `signal` aborts. */
  wait(topic: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(topic, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.once(topic, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
