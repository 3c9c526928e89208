/**
 * Values loaded from the server with their error and loading flag, and the
 * rule for when a change is worth a signal. Used by the model (model.ts) to
 * keep hosts, environments, kernels and per-host GPUs and images; pure data,
 * no requests of its own (the model passes the fetch function).
 */

/** A value loaded from the server, with its error and loading flag. */
export interface ILoaded<T> {
  value: T | null;
  error: string | null;
  loading: boolean;
}

export function empty<T>(): ILoaded<T> {
  return { value: null, error: null, loading: false };
}

/**
 * What a view shows of a loaded value: `loading` only matters while there is
 * no value yet, so refreshing a list that is shown does not re-render it.
 */
export function shown<T>(loaded: ILoaded<T>): string {
  return JSON.stringify([
    loaded.value,
    loaded.error,
    loaded.value === null && loaded.loading
  ]);
}

/** One loaded value; `changed` is called when what views show of it changes. */
export class LoadedValue<T> {
  constructor(private _changed: () => void) {}

  get current(): ILoaded<T> {
    return this._current;
  }

  set(next: ILoaded<T>): void {
    const before = this._current;
    this._current = next;
    if (shown(before) !== shown(next)) {
      this._changed();
    }
  }

  /**
   * Fetch a new value; on failure keep the old one with the error text.
   * Requests may overlap (a poll and a click): the last one to end wins.
   */
  async load(
    fetch: () => Promise<T>,
    describe: (reason: unknown) => string
  ): Promise<void> {
    const before = this._current;
    this.set({ ...before, loading: true });
    try {
      this.set({ value: await fetch(), error: null, loading: false });
    } catch (reason) {
      this.set({
        value: this._current.value,
        error: describe(reason),
        loading: false
      });
    }
  }

  private _current: ILoaded<T> = empty();
}

/** Loaded values per key (host name); `changed` gets the key. */
export class LoadedMap<T> {
  constructor(private _changed: (key: string) => void) {}

  get(key: string): ILoaded<T> {
    return this._values.get(key)?.current ?? empty();
  }

  entry(key: string): LoadedValue<T> {
    let value = this._values.get(key);
    if (!value) {
      value = new LoadedValue<T>(() => this._changed(key));
      this._values.set(key, value);
    }
    return value;
  }

  private _values = new Map<string, LoadedValue<T>>();
}
