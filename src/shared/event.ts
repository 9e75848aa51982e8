/**
 * One small typed event emitter. Subscribing returns a Disposable, so any number of listeners can
 * watch the same source and each can leave on its own: no "chain onto the previous hook" slots
 * that a forgetful caller overwrites. A listener that throws is reported (onListenerError) and
 * never stops the others or the code that fired the event.
 */

export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (e: T) => void;

/** The subscribe side, handed to others: `source.onDidX(listener)` → Disposable. */
export type Event<T> = (listener: Listener<T>) => Disposable;

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  constructor(private readonly onListenerError: (e: unknown) => void = () => {}) {}

  /** Subscribes; the same function may subscribe twice and each subscription disposes alone. */
  readonly event: Event<T> = (listener) => {
    const l: Listener<T> = (e) => listener(e);
    this.listeners.add(l);
    return { dispose: () => void this.listeners.delete(l) };
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        try {
          this.onListenerError(err);
        } catch {
          // Reporting a listener's failure must not fail the event.
        }
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** Disposes several subscriptions at once (a component leaving everything it watched). */
export class DisposableStore implements Disposable {
  private readonly items = new Set<Disposable>();
  add<D extends Disposable>(d: D): D {
    this.items.add(d);
    return d;
  }
  dispose(): void {
    for (const d of [...this.items]) d.dispose();
    this.items.clear();
  }
}
